"""The account 360 page: one customer's health, MRR, KPIs, charts and history as of a day."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import Customer
from accounts.reporting_time import today
from metrics.health import Component, Health, health_for_customers
from metrics.health_snapshots import day_score, scores_on
from metrics.models import HealthScore
from metrics.periods import Period, add_months
from metrics.selectors import Scope, compute_kpis, mrr_on_days, usage_kpis_for_periods
from web.selectors.timeline import account_notes, account_responses, account_tasks, account_tickets


ACCOUNT_KPI_KEYS = (
    "mau", "dau_mau", "average_session_duration", "events_per_active_user",
    "first_contact_resolution_rate", "nps", "csat", "ces",
)  # fmt: skip
CHART_MONTHS = 12


@dataclass
class Account:
    customer: Customer
    at: datetime.date
    health: object
    mrr: Decimal
    renewal_on: datetime.date | None
    customer_since: datetime.date | None
    plans: list[str]
    kpis: dict
    kpi_period: Period
    mrr_series: list[tuple[datetime.date, Decimal]]
    activity_series: list[tuple[Period, dict]]
    subscriptions: list
    tickets: list
    responses: list
    tasks: list
    notes: list
    past: bool = False  # a read-only view of the customer as of `at`, before today
    open_tickets: int = 0
    health_source: str = "computed"  # or "snapshot": the stored daily score of a published version
    extra: dict = field(default_factory=dict)

    @property
    def before_start(self) -> bool:
        """A day before the customer signed up (or started paying): there is nothing to score yet."""
        return self.customer_since is None or self.at < self.customer_since


def last_months(at: datetime.date, months: int = CHART_MONTHS) -> list[Period]:
    """The `months` whole calendar months before the month of `at`, oldest first."""
    first = add_months(at.replace(day=1), -months)
    return [Period(add_months(first, i), add_months(first, i + 1)) for i in range(months)]


def health_from_snapshot(row: HealthScore) -> Health:
    """A stored daily score shaped like a computed one (components with their inputs)."""

    def dec(value):
        return None if value in (None, "") else Decimal(str(value))

    components = {
        name: Component(dec(c.get("score")), dec(c.get("weight")) or Decimal(0), c.get("inputs") or {})
        for name, c in (row.components or {}).items()
    }
    return Health(row.customer_id, row.day, row.score, row.band or None, components)


def account_health(customer: Customer, at: datetime.date, past: bool) -> tuple[Health, str]:
    """The health at the start of `at`: in a past view the stored snapshot when there is one, else computed;
    today the day's score the portfolio shows too (scored and stored now if the nightly run has not yet)."""
    if past:
        row = scores_on([customer.pk], at).get(customer.pk)
        if row is not None:
            return health_from_snapshot(row), "snapshot"
        return health_for_customers([customer.pk], at)[customer.pk], "computed"
    return health_from_snapshot(day_score(customer.pk, at)), "computed"


def account_360(customer: Customer, at: datetime.date | None = None) -> Account:
    """Gather the account page as of the start of `at` (default today); the query count does not
    grow with the customer's history. A day before today is a past view: only what had happened by then."""
    current = today()
    at = at or current
    past = at < current
    until = at if past else None
    scope = Scope(customer_id=customer.pk)
    kpi_period = Period(at - datetime.timedelta(days=30), at)
    subscriptions = list(customer.subscriptions.select_related("end_reason").order_by("-started_at", "plan"))
    active = [s for s in subscriptions if s.is_active_on(at)]
    renewals = sorted(s.ended_at for s in active if s.ended_at is not None)
    first_paid = min((s.started_at for s in subscriptions), default=None)
    months = last_months(at)
    month_starts = [m.start for m in months] + [at]
    mrr_series = list(zip(month_starts, mrr_on_days(scope, month_starts), strict=True))
    *usage, recent_usage = usage_kpis_for_periods(scope, [*months, kpi_period])  # three queries for 13 periods
    activity_series = [(m, {k: u[k] for k in ("mau", "events_per_active_user")}) for m, u in zip(months, usage, strict=True)]
    account_kpis = {
        **compute_kpis(scope, kpi_period, [k for k in ACCOUNT_KPI_KEYS if k not in recent_usage]),
        **{k: v for k, v in recent_usage.items() if k in ACCOUNT_KPI_KEYS},
    }
    customer_since = customer.created_on or first_paid
    if customer_since is None or at < customer_since:
        health, health_source = Health(customer.pk, at, None, None, {}), "none"  # not a customer yet: no "At risk · 0"
    else:
        health, health_source = account_health(customer, at, past)
    tickets = list(account_tickets(customer, until).select_related("contact")[:25])
    return Account(
        customer=customer,
        at=at,
        health=health,
        mrr=mrr_series[-1][1],
        renewal_on=renewals[0] if renewals else None,
        customer_since=customer_since,
        plans=sorted({s.plan for s in active}),
        kpis={k: account_kpis[k] for k in ACCOUNT_KPI_KEYS},
        kpi_period=kpi_period,
        mrr_series=mrr_series,
        activity_series=activity_series,
        subscriptions=[s for s in subscriptions if s.started_at <= at],  # rows that had started by then
        tickets=tickets,
        responses=list(account_responses(customer, until)[:25]),
        tasks=account_tasks(customer, until),
        notes=account_notes(customer, until),
        past=past,
        open_tickets=account_tickets(customer, until).filter(open_then=True).count(),
        health_source=health_source,
    )


def account_contacts(customer, limit: int = 100) -> list:
    """The customer's contacts (the product's users), named ones first."""
    return list(customer.contacts.order_by("name", "email", "external_id")[:limit])
