"""Cohort retention: customers grouped by the month they first paid, and how many of them (logo) and how
much of their MRR (revenue) is still paying each month after.

A cohort is every customer in the scope whose first paying (non-trial, MRR > 0) subscription starts in
that month. Age k is measured at the start of the (k + 1)-th month after the sign-up month, so age 0 is
the end of the sign-up month. Start MRR is each customer's MRR on its first paying day. The formula is
`kpis.cohort_retention`; MRR on a day comes from `selectors.mrr_by_customer`, the query every revenue KPI
uses. An age whose day lies after `today` has no data yet (None), never 0 %.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Min, OuterRef, Subquery, Sum

from accounts.models import Customer, Subscription
from metrics import kpis
from metrics.periods import add_months
from metrics.selectors import Scope, mrr_by_customer


@dataclass
class CohortCell:
    age: int
    day: datetime.date  # the day measured
    logo: kpis.Kpi
    revenue: kpis.Kpi


@dataclass
class Cohort:
    month: datetime.date  # first day of the sign-up month
    start_mrr: dict[int, Decimal]  # customer -> MRR on its first paying day
    cells: list[CohortCell | None]  # by age; None: that day is still to come

    @property
    def size(self) -> int:
        return len(self.start_mrr)

    @property
    def mrr(self) -> Decimal:
        return sum(self.start_mrr.values(), Decimal(0))


def _first_paying_rows(scope: Scope, start: datetime.date, end: datetime.date):
    paying = scope.restrict(Subscription.objects.paying())
    first = paying.filter(customer=OuterRef("customer_id")).order_by().values("customer_id").annotate(m=Min("started_at"))
    return (
        paying.filter(started_at=Subquery(first.values("m")), started_at__gte=start, started_at__lt=end)
        .values("customer_id", "started_at")
        .annotate(mrr=Sum("mrr"))
        .order_by()
    )


def first_paying(scope: Scope, start: datetime.date, end: datetime.date) -> dict[int, tuple[datetime.date, Decimal]]:
    """Return {customer: (first paying day, MRR that day)} for customers whose first paying day is in [start, end)."""
    return {r["customer_id"]: (r["started_at"], r["mrr"]) for r in _first_paying_rows(scope, start, end)}


def cohort_size(scope: Scope, month: datetime.date) -> int:
    """How many customers of the scope first paid in `month` (a first day): the size of its cohort, counted in the query."""
    return _first_paying_rows(scope, month, add_months(month, 1)).count()


def cohort_table(scope: Scope, first_month: datetime.date, last_month: datetime.date, today: datetime.date) -> list[Cohort]:
    """Return one cohort per month from `first_month` to `last_month` (inclusive, first days), oldest first,
    each with cells for ages 0 up to the age of the first cohort's last measurable month."""
    starts = first_paying(scope, first_month, add_months(last_month, 1))
    months = []
    month = first_month
    while month <= last_month:
        months.append(month)
        month = add_months(month, 1)
    ages = len(months)
    days = sorted({add_months(m, k + 1) for m in months for k in range(ages) if add_months(m, k + 1) <= today})
    ids = list(starts)
    mrr_on = {day: mrr_by_customer(scope, day, ids) for day in days} if ids else {}
    cohorts = []
    for month in months:
        members = {c: mrr for c, (day, mrr) in starts.items() if day.replace(day=1) == month}
        cells: list[CohortCell | None] = []
        for age in range(ages):
            day = add_months(month, age + 1)
            if day > today:
                cells.append(None)
                continue
            logo, revenue = kpis.cohort_retention(members, mrr_on.get(day, {}))
            cells.append(CohortCell(age, day, logo, revenue))
        cohorts.append(Cohort(month, members, cells))
    return cohorts


def cohort_customers(scope: Scope, month: datetime.date, age: int, today: datetime.date) -> list[dict]:
    """The customers behind one cell: each member of the cohort with its start MRR and its MRR at that age.

    A scope `seen_by` a user lists only the customers that user may see (filtered in the query)."""
    starts = first_paying(scope, month, add_months(month, 1))
    day = add_months(month, age + 1)
    then = mrr_by_customer(scope, day, list(starts)) if day <= today and starts else {}
    names = dict(Customer.objects.filter(pk__in=starts).values_list("pk", "name"))
    rows = [
        {
            "customer_id": cid,
            "customer": names.get(cid, ""),
            "first_paid_on": first,
            "start_mrr": mrr,
            "mrr": then.get(cid, Decimal(0)) if day <= today else None,
            "paying": then.get(cid, Decimal(0)) > 0 if day <= today else None,
        }
        for cid, (first, mrr) in starts.items()
    ]
    return sorted(rows, key=lambda r: r["customer"].lower())


def pooled(cohorts: list[Cohort], metric: str) -> list[kpis.Kpi]:
    """The retention of all cohorts taken together at each age ("logo" or "revenue"): every cohort that has
    reached the age counts with its size (or start MRR), as the average line of a cohort chart."""
    ages = max((len(c.cells) for c in cohorts), default=0)
    return [
        kpis.pooled_ratio(
            (getattr(c.cells[age], metric) for c in cohorts if age < len(c.cells) and c.cells[age] is not None),
            "no cohort has reached this age",
        )
        for age in range(ages)
    ]
