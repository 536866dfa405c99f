"""Customer-dates to learn from: features as of each date, what happened next, the health score then.

One `Observation` per customer paying at the start of a date: its raw features
(`churn.features`), whether it was not paying `horizon` days later (the label, the
health backtest's "churned") and, when asked, its score by the published health model
on that very date, so both are judged on the same customer-dates.
"""

import datetime
from dataclasses import dataclass

from accounts.models import Customer, Subscription
from churn.features import HORIZON_DAYS, features_at
from metrics.health import health_for_customers
from metrics.health_versions import definition_of, models_for_customers
from metrics.models import UserDayActivity
from metrics.selectors import Scope, mrr_by_customer

HISTORY_DAYS = 90  # a date needs this much data before it (MRR change, activity trend)


@dataclass
class Observation:
    customer_id: int
    day: datetime.date
    raw: dict
    churned: bool
    health: float | None = None


def data_start() -> datetime.date | None:
    """Return the first day with subscription or usage data (None without any)."""
    first_subscription = Subscription.objects.order_by("started_at").values_list("started_at", flat=True).first()
    first_usage = UserDayActivity.objects.order_by("day").values_list("day", flat=True).first()
    known = [d for d in (first_subscription, first_usage) if d is not None]
    return min(known) if known else None


def labelled_dates(today: datetime.date, *, every_days: int = 7, horizon: int = HORIZON_DAYS) -> list[datetime.date]:
    """Return the dates whose outcome is known by `today`: every `every_days` back from `today − horizon`.

    The first date leaves HISTORY_DAYS of data before it; the dates are anchored at the
    last one so that a re-run a week later shifts the whole series by a week.
    """
    start = data_start()
    if start is None:
        return []
    last = today - datetime.timedelta(days=horizon)
    first = start + datetime.timedelta(days=HISTORY_DAYS)
    dates = []
    day = last
    while day >= first:
        dates.append(day)
        day -= datetime.timedelta(days=every_days)
    return sorted(dates)


def published_health(ids, day: datetime.date) -> dict[int, float | None]:
    """Return {customer: score} at the start of `day` by the published health model of its segment."""
    segments = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "segment"))
    scores = {}
    for model, group in models_for_customers(segments):
        for customer_id, health in health_for_customers(group, day, definition_of(model)).items():
            scores[customer_id] = None if health.score is None else float(health.score)
    return scores


def observations(dates, *, horizon: int = HORIZON_DAYS, with_health: bool = False, progress=None) -> list[Observation]:
    """Return one observation per customer paying at each date (a fixed number of queries per date).

    `progress` wraps the dates while they are worked through (e.g. tqdm, for a progress bar).
    """
    ids = list(Customer.objects.values_list("pk", flat=True))
    rows = []
    for day in progress(dates) if progress else dates:
        raw = features_at(ids, day)
        later = mrr_by_customer(Scope(), day + datetime.timedelta(days=horizon), list(raw))
        health = published_health(list(raw), day) if with_health else {}
        for customer_id in sorted(raw):
            rows.append(
                Observation(customer_id, day, raw[customer_id], customer_id not in later, health.get(customer_id))
            )
    return rows
