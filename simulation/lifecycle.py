"""A customer's commercial life month by month: trial, first payment, upgrades,
downgrades, add-ons, annual renewals, churn and reactivation, as subscription rows.

Decisions made at the end of a month take effect on a day of the next month (an annual
plan's churn at its renewal date), so every row ends strictly after it starts.
"""

import datetime

from surveys.scales import NPS, low_max

from . import catalog, drivers
from .activity import answer_surveys, open_tickets, plan_usage
from .dates import add_months, days_between
from .profile import segment_of
from .records import SimCustomer, SimSubscription

# Event kinds in the order they apply on the same day: a renewal closes the old term
# before a change starts the new one.
RENEWAL, SIGNUP, TRIAL_END, CHURN, REACTIVATE, CHANGE = range(6)
FIRST_TERM_DISCOUNTS = (0, 0, 0, 5, 10, 15)  # percent, annual plans' first term only


class Lifecycle:
    """Simulate one customer from sign-up to the end of the window."""

    def __init__(self, rng, customer: SimCustomer, *, months, end: datetime.date):
        self.rng, self.customer, self.months, self.end = rng, customer, months, end
        self.end_at = datetime.datetime.combine(end, datetime.time())
        self.segment = segment_of(customer.segment)
        self.latent = self.health = customer.latent_health
        self.state = "prospect"  # trial, paying, gone
        self.main: SimSubscription | None = None
        self.addon: SimSubscription | None = None
        self.tier = self.seats = self.billing = self.discount = 0
        self.renews_on: datetime.date | None = None
        self.cancel_at_renewal = False
        self.converts = False
        self.pending: list[tuple[datetime.date, int, dict]] = [(customer.signup, SIGNUP, {})]

    # --- subscription rows ---------------------------------------------------------
    def _mrr_cents(self) -> int:
        factor = catalog.ANNUAL_FACTOR if self.billing == 12 else 1
        price = catalog.TIERS[self.tier][1]
        return round(self.seats * price * factor * (100 - self.discount) / 100)

    def _open(self, day, plan, mrr_cents, *, billing=1, quantity=1, is_trial=False, ended_at=None):
        subs = self.customer.subscriptions
        row = SimSubscription(
            f"{self.customer.external_id}-S{len(subs) + 1:03d}", plan, day, ended_at, mrr_cents, billing, quantity, is_trial
        )
        subs.append(row)
        return row

    def _close(self, row, day):
        if row is None:
            return
        assert day > row.started_at, (row, day)
        row.ended_at = day

    def _open_main(self, day):
        self.main = self._open(
            day, catalog.TIERS[self.tier][0], self._mrr_cents(), billing=self.billing, quantity=self.seats
        )

    def _switch_main(self, day):
        """Replace the main row from `day` on with the current tier, seats and discount."""
        if self.main.started_at == day:
            self.main.plan, self.main.quantity = catalog.TIERS[self.tier][0], self.seats
            self.main.mrr_cents = self._mrr_cents()
        else:
            self._close(self.main, day)
            self._open_main(day)

    # --- events ----------------------------------------------------------------------
    def _start_paying(self, day):
        rng, segment = self.rng, self.segment
        if not self.tier and not self.seats:
            self.tier = rng.randint(*segment.tiers)
            self.seats = rng.randint(*segment.seats)
        self.billing = 12 if rng.random() < segment.annual_share else 1
        self.discount = rng.choice(FIRST_TERM_DISCOUNTS) if self.billing == 12 else 0
        self.renews_on = add_months(day, 12) if self.billing == 12 else None
        self.state = "paying"
        self.customer.first_paid_on = self.customer.first_paid_on or day
        self._open_main(day)

    def _signup(self, day):
        rng = self.rng
        if rng.random() < self.segment.trial_share:
            self.customer.trial = True
            self.tier = rng.randint(*self.segment.tiers)
            self.seats = rng.randint(*self.segment.seats)
            trial_end = day + datetime.timedelta(days=catalog.TRIAL_DAYS)
            self._open(day, f"{catalog.TIERS[self.tier][0]} Trial", 0, quantity=self.seats, is_trial=True, ended_at=trial_end)
            self.converts = rng.random() < drivers.trial_conversion_probability(self.latent)
            self.state = "trial"
            self.pending.append((trial_end, TRIAL_END, {}))
        else:
            self._start_paying(day)

    def _churn(self, day):
        self._close(self.main, day)
        self._close(self.addon, day)
        self.main = self.addon = self.renews_on = None
        self.cancel_at_renewal = False
        self.state = "gone"
        self.customer.churned_on.append(day)

    def _apply(self, day, kind, payload):
        if kind == SIGNUP:
            self._signup(day)
        elif kind == TRIAL_END:
            if self.converts:
                self._start_paying(day)
            else:
                self.state = "gone"
        elif kind == RENEWAL:
            if self.cancel_at_renewal:
                self._churn(day)
            else:
                self.discount = 0
                self.renews_on = add_months(day, 12)
                self._close(self.main, day)
                self._open_main(day)
        elif kind == CHURN:
            self._churn(day)
        elif kind == REACTIVATE:
            self.latent = (self.latent + self.rng.betavariate(2.5, 2)) / 2
            self.health = max(self.health, self.latent)
            self.tier = max(self.segment.tiers[0], self.tier - self.rng.randint(0, 1))
            self.seats = max(1, round(self.seats * self.rng.uniform(0.6, 1.0)))
            self.customer.reactivated_on.append(day)
            self._start_paying(day)
        elif kind == CHANGE:
            self._change(day, payload["what"])

    def _change(self, day, what):
        rng = self.rng
        if what == "addon":
            price = self.segment.addon_cents
            self.addon = self._open(day, rng.choice(catalog.ADDONS), price, quantity=1)
        elif what == "drop_addon":
            self._close(self.addon, day)
            self.addon = None
        else:
            if what == "upgrade":
                self.tier += 1
            elif what == "downgrade":
                self.tier -= 1
            elif what == "more_seats":
                self.seats = max(self.seats + 1, round(self.seats * rng.uniform(1.15, 1.5)))
            elif what == "fewer_seats":
                self.seats = max(1, min(self.seats - 1, round(self.seats * rng.uniform(0.6, 0.85))))
            self._switch_main(day)

    # --- month-end decisions ------------------------------------------------------------
    def _observed_drivers(self, month_start, month_end, activity) -> dict:
        """Return what a health score could see at `month_end`: usage, sentiment, open tickets."""
        instant = datetime.datetime.combine(month_end, datetime.time())
        fraction = len(activity.days) / (month_end - month_start).days if activity else 1
        user_days = sum(n for _i, n in activity.users) if activity else 0
        nps_since = instant - datetime.timedelta(days=drivers.DETRACTOR_WINDOW_DAYS)
        nps = [r for r in self.customer.responses if r.survey_type == "nps" and nps_since <= r.responded_at < instant]
        latest = max(nps, key=lambda r: r.responded_at, default=None)
        tickets_since = instant - datetime.timedelta(days=drivers.UNRESOLVED_WINDOW_DAYS)
        unresolved = sum(
            1 for t in self.customer.tickets if tickets_since <= t.opened_at < instant and t.is_unresolved_at(instant)
        )
        return {
            "low_usage": drivers.low_usage(user_days, len(self.customer.contacts), fraction),
            "detractor": latest is not None and latest.score <= low_max(NPS),
            "unresolved": unresolved,
        }

    def _next_month_day(self, month_end):
        return month_end + datetime.timedelta(days=self.rng.randrange(28))

    def _decide(self, month_start, month_end, activity):
        rng = self.rng
        if self.state == "paying" and not self.cancel_at_renewal and self.customer.first_paid_on < month_start:
            if rng.random() < drivers.churn_probability(**self._observed_drivers(month_start, month_end, activity)):
                if self.billing == 12:
                    self.cancel_at_renewal = True
                else:
                    self.pending.append((self._next_month_day(month_end), CHURN, {}))
                return
            if rng.random() < drivers.expansion_probability(self.health):
                what = rng.choices(("more_seats", "upgrade", "addon"), weights=(6, 3, 2))[0]
                if what == "upgrade" and self.tier >= min(len(catalog.TIERS) - 1, self.segment.tiers[1] + 1):
                    what = "more_seats"
                if what == "addon" and self.addon:
                    what = "more_seats"
                self.pending.append((self._next_month_day(month_end), CHANGE, {"what": what}))
            elif rng.random() < drivers.contraction_probability(self.health):
                what = rng.choices(("fewer_seats", "downgrade", "drop_addon"), weights=(6, 3, 3))[0]
                if what == "downgrade" and self.tier == 0:
                    what = "fewer_seats"
                if what == "drop_addon" and not self.addon:
                    what = "fewer_seats"
                self.pending.append((self._next_month_day(month_end), CHANGE, {"what": what}))
        elif self.state == "gone" and self.customer.churned_on:
            if month_start > self.customer.churned_on[-1] and rng.random() < drivers.reactivation_probability(self.latent):
                self.pending.append((self._next_month_day(month_end), REACTIVATE, {}))

    # --- the month loop ---------------------------------------------------------------------
    def _due(self, day):
        """Pop the events due on `day` (the renewal included), in their same-day order."""
        due = [e for e in self.pending if e[0] == day]
        if due:
            self.pending = [e for e in self.pending if e[0] != day]
        if self.renews_on == day:
            due.append((day, RENEWAL, {}))
        return sorted(due, key=lambda e: e[1])

    def run(self) -> SimCustomer:
        customer = self.customer
        for month_start in self.months:
            month_end = add_months(month_start, 1)
            if month_end <= customer.signup:
                continue
            usable = []
            for day in days_between(month_start, month_end):
                for event in self._due(day):
                    self._apply(*event)
                if self.state in ("trial", "paying"):
                    usable.append(day)
            self.health = drivers.next_health(self.rng, self.health, self.latent)
            if self.cancel_at_renewal:
                self.health = min(self.health, self.latent) * 0.8  # a customer on notice disengages
            activity = None
            if usable:
                activity = plan_usage(self.rng, customer, usable, len(days_between(month_start, month_end)), self.health)
                customer.activity.append(activity)
                tickets = open_tickets(self.rng, customer, usable, self.health, self.segment, end=self.end_at)
                customer.responses.extend(answer_surveys(self.rng, customer, usable, self.health, tickets, end=self.end_at))
                customer.tickets.extend(tickets)
            if month_end < self.end:
                self._decide(month_start, month_end, activity)
        return customer
