"""Renewals: which paying customers renew when, how much MRR is at stake, and a forecast of what renews.

A customer's renewal is the earliest next renewal of its paying subscriptions (`Subscription.renewal_on`:
the end date of a contract that has one, else derived from its start and billing period). MRR at stake
is the paying MRR today; committed MRR is the MRR paying on the renewal day as the subscriptions stand
(today's plus every change already known: an end, a scheduled up- or downgrade); expected MRR weighs
committed MRR by the 90-day churn rate of the customer's health band in the newest backtest of a
published health model (`kpis.expected_renewal_mrr`).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Customer, Subscription
from metrics import kpis
from metrics.health import health_for_customers
from metrics.health_snapshots import scores_on
from metrics.models import BacktestRun, HealthModel

WINDOWS = (30, 60, 90)


@dataclass
class Renewal:
    customer: Customer
    renewal_on: datetime.date
    mrr: Decimal  # paying today: the MRR at stake
    committed: Decimal  # paying on the renewal day as known today
    score: Decimal | None
    band: str | None
    churn_rate: Decimal | None  # of its band, within 90 days, from the backtest
    expected: kpis.Kpi
    days_left: int = 0

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12



def band_churn_rates() -> tuple[dict[str, Decimal], BacktestRun | None]:
    """Return ({band: churn rate within 90 days}, the backtest) from the newest backtest of a published model."""
    run = (
        BacktestRun.objects.filter(model__status=HealthModel.Status.PUBLISHED)
        .order_by("model__segment", "-created_at")  # the all-segment model's first
        .first()
    )
    if run is None:
        return {}, None
    rates = {}
    for band, figures in (run.result.get("bands") or {}).items():
        if figures.get("churn_rate") is not None:
            rates[band] = Decimal(str(figures["churn_rate"]))
    return rates, run


def health_now(ids, day: datetime.date) -> dict[int, tuple[Decimal | None, str | None]]:
    """{customer: (score, band)} at `day`: the stored snapshot, else computed by the default model."""
    found = {cid: (row.score, row.band or None) for cid, row in scores_on(ids, day).items()}
    missing = [cid for cid in ids if cid not in found]
    if missing:
        found.update({cid: (h.score, h.band) for cid, h in health_for_customers(missing, day).items()})
    return found


def renewals_due(customers, day: datetime.date, days: int = 90, *, min_months: int = 1) -> list[Renewal]:
    """The renewals of `customers` (a queryset the caller scoped) in [day, day + days), soonest first;
    `min_months=12` counts only subscriptions billed yearly or longer (contract renewals, not monthly ones)."""
    paying = Subscription.objects.paying_at(day).filter(customer__in=customers.values("pk"))
    if min_months > 1:
        paying = paying.filter(billing_period_months__gte=min_months)
    until = day + datetime.timedelta(days=days)
    renewals = {cid: on for cid, on in paying.renewals_by_customer(day).items() if on < until}
    if not renewals:
        return []
    ids = list(renewals)
    mrr = Subscription.objects.paying_at(day).filter(customer_id__in=ids).mrr_by_customer()
    committed = {}
    for on in set(renewals.values()):  # one query per renewal day (at most `days`)
        same_day = [cid for cid, d in renewals.items() if d == on]
        rows = Subscription.objects.paying_at(on).filter(customer_id__in=same_day).mrr_by_customer()
        committed.update({cid: rows.get(cid, Decimal(0)) for cid in same_day})
    health = health_now(ids, day)
    rates, _run = band_churn_rates()
    objects = Customer.objects.select_related("owner").in_bulk(ids)
    rows = []
    for cid, on in renewals.items():
        score, band = health.get(cid, (None, None))
        rate = rates.get(band) if band else None
        rows.append(
            Renewal(objects[cid], on, mrr.get(cid, Decimal(0)), committed[cid], score, band, rate,
                    kpis.expected_renewal_mrr(committed[cid], rate), (on - day).days)
        )  # fmt: skip
    rows.sort(key=lambda r: (r.renewal_on, r.customer.name.lower()))
    return rows


@dataclass
class ForecastLine:
    key: object  # a month (first day) or a CSM's username
    renewals: int = 0
    mrr: Decimal = Decimal(0)
    committed: Decimal = Decimal(0)
    expected: Decimal = Decimal(0)
    unweighted: int = 0  # renewals without a band rate: their committed MRR counts in full in `expected`


def forecast(renewals: list[Renewal], by: str) -> list[ForecastLine]:
    """Sum renewals by "month" of renewal, by "csm" (owner's username, "" without one) or "all" (one line)."""
    lines: dict = defaultdict(lambda: None)
    for r in renewals:
        if by == "month":
            key = r.renewal_on.replace(day=1)
        elif by == "csm":
            key = r.customer.owner.get_username() if r.customer.owner else ""
        else:
            key = ""
        line = lines[key] or ForecastLine(key)
        line.renewals += 1
        line.mrr += r.mrr
        line.committed += r.committed
        if r.expected.value is None:
            line.expected += r.committed
            line.unweighted += 1
        else:
            line.expected += r.expected.value
        lines[key] = line
    return [lines[k] for k in sorted(lines)]
