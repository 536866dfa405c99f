"""Daily health score snapshots and the reads built on them (history, band changes).

A snapshot row is unique per (customer, day, model version) and written with an upsert,
so a re-run rewrites the same rows. The day is an argument; only the beat entry point
in metrics.tasks reads the clock. Customers are scored in bulk per model version
(`health_for_customers`: a fixed number of queries per group).
"""

import datetime
from decimal import Decimal

from django.db.models import Max, Q
from django.utils import timezone

from accounts import policy
from accounts.models import Customer, Subscription
from metrics import kpis
from metrics.health import health_for_customers, health_json
from metrics.health_versions import definition_of, models_for_customers, published_models
from metrics.models import HealthModel, HealthScore, UserDayActivity

MRR_CHANGE_DAYS = 30  # the portfolio's "change" column: MRR now against MRR this many days before
BAND_RANK = {band: rank for rank, band in enumerate(reversed(kpis.HEALTH_BANDS))}  # at risk 0 … healthy 2


def health_snapshot_write(day: datetime.date, customer_ids=None, *, computed_at=None) -> int:
    """Score the customers (default: all) at the start of `day` with their published model; upsert rows."""
    customers = Customer.objects.all()
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    segments = dict(customers.values_list("pk", "segment"))
    computed_at = computed_at or timezone.now()
    mrr, mrr_before, former, last_activity = _portfolio_figures(customers, day)
    rows = []
    for model, ids in models_for_customers(segments):
        for customer_id, health in health_for_customers(ids, day, definition_of(model)).items():
            shaped = health_json(health, model.label)
            rows.append(
                HealthScore(
                    customer_id=customer_id, day=day, model=model, score=health.score, band=health.band or "",
                    components=shaped["components"], computed_at=computed_at,
                    mrr=mrr.get(customer_id, Decimal(0)), mrr_before=mrr_before.get(customer_id, Decimal(0)),
                    former=customer_id in former, last_activity_on=last_activity.get(customer_id),
                )  # fmt: skip
            )
    HealthScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer", "day", "model"],
        update_fields=["score", "band", "components", "computed_at", "mrr", "mrr_before", "former", "last_activity_on"],
    )
    return len(rows)


def _portfolio_figures(customers, day: datetime.date) -> tuple[dict, dict, set, dict]:
    """{customer: MRR paying at the start of `day`}, the same MRR_CHANGE_DAYS before, the former
    customers (subscriptions started by `day`, none active then) among `customers`, and {customer: its
    last active user day up to `day`} (the portfolio's "last active" column): five grouped queries."""
    subscriptions = Subscription.objects.filter(customer__in=customers.values("pk"))
    before = day - datetime.timedelta(days=MRR_CHANGE_DAYS)
    current = set(subscriptions.active_at(day).values_list("customer_id", flat=True).distinct())
    started = set(subscriptions.filter(started_at__lte=day).values_list("customer_id", flat=True).distinct())
    last_activity = (
        UserDayActivity.objects.filter(customer__in=customers.values("pk"), day__lt=day + datetime.timedelta(days=1))
        .values("customer_id").annotate(last=Max("day")).order_by().values_list("customer_id", "last")
    )  # fmt: skip
    return (
        subscriptions.paying_at(day).mrr_by_customer(),
        subscriptions.paying_at(before).mrr_by_customer(),
        started - current,
        dict(last_activity),
    )


def day_scores(day: datetime.date, customers=None):
    """The stored scores of `day` that count now: each customer's row by the published model that
    scores it (its segment's, else the default; see `models_for_customers`), optionally only of the
    `customers` queryset. Grouped, counted and summed in the database (the portfolio's band counts)."""
    published, fallback = published_models()
    own = [segment for segment in published if segment]
    which = Q(model=fallback)
    if own:
        which = (which & ~Q(customer__segment__in=own)) | Q(
            *[Q(model=published[segment], customer__segment=segment) for segment in own], _connector=Q.OR
        )
    rows = HealthScore.objects.filter(which, day=day)
    if customers is not None:
        rows = rows.filter(customer__in=customers.values("pk"))
    return rows


def day_scores_fill(day: datetime.date, customers) -> int:
    """Score and store the customers of the `customers` queryset that have no counting row of `day` yet.

    The daily beat task writes every customer's row; this catches the customers added or
    changed since (a new customer, another segment, a forgotten row after an import).
    """
    missing = list(day_scores_missing(day, customers).values_list("pk", flat=True))
    return health_snapshot_write(day, missing) if missing else 0


def day_scores_missing(day: datetime.date, customers):
    """The customers of `customers` without a complete counting row of `day` (none, or one written
    without the portfolio's figures: rows from before those columns existed)."""
    return customers.exclude(pk__in=day_scores(day).filter(mrr__isnull=False).values("customer_id"))


def day_score(customer_id: int, day: datetime.date) -> HealthScore:
    """The customer's counting row of `day` (see `day_scores`), scored and stored first if missing."""
    rows = day_scores(day).filter(customer_id=customer_id)
    row = rows.first()
    if row is None:
        health_snapshot_write(day, [customer_id])
        row = rows.first()
    return row


def day_scores_forget(customer_ids, day: datetime.date) -> int:
    """Delete the rows of `day` and later of these customers: data they were computed from changed.

    Stored rows of earlier days stay: they record what the score was on their day.
    """
    deleted, _ = HealthScore.objects.filter(customer_id__in=list(customer_ids), day__gte=day).delete()
    return deleted


def health_history(customer_id: int, until: datetime.date, days: int = 180) -> list[HealthScore]:
    """Return the customer's daily scores by published or retired versions in [until − days, until], oldest first."""
    return list(
        HealthScore.objects.filter(
            customer_id=customer_id,
            day__gt=until - datetime.timedelta(days=days),
            day__lte=until,
            model__status__in=[HealthModel.Status.PUBLISHED, HealthModel.Status.RETIRED],
        )
        .select_related("model")
        .order_by("day", "model__published_at")
    )


def scores_on(customer_ids, day: datetime.date) -> dict[int, HealthScore]:
    """Return each customer's snapshot of `day` by the newest published version that scored it."""
    rows = (
        HealthScore.objects.filter(customer_id__in=customer_ids, day=day)
        .exclude(model__status=HealthModel.Status.DRAFT)
        .order_by("model__published_at")
    )
    return {row.customer_id: row for row in rows}  # the newest published version wins


def band_changes_for_user(user, day: datetime.date, days: int = 7) -> list[dict]:
    """Return the band changes of the user's visible customers over [day − days, day], newest first.

    A change is a day whose band differs from the previous stored day of the same model.
    """
    customers = policy.visible_customers(user)
    rows = (
        HealthScore.objects.filter(
            Q(customer__in=customers),
            day__gte=day - datetime.timedelta(days=days + 1),
            day__lte=day,
            model__status=HealthModel.Status.PUBLISHED,
        )
        .exclude(band="")
        .order_by("customer_id", "model_id", "day")
        .values("customer_id", "customer__name", "model_id", "day", "band", "score")
    )
    changes, previous = [], {}
    for row in rows:  # a week of rows per customer, already filtered to the window
        key = (row["customer_id"], row["model_id"])
        before = previous.get(key)
        if before and before["band"] != row["band"] and row["day"] > day - datetime.timedelta(days=days):
            changes.append(
                {
                    "customer_id": row["customer_id"],
                    "customer": row["customer__name"],
                    "day": row["day"],
                    "from_band": before["band"],
                    "to_band": row["band"],
                    "from_score": before["score"],
                    "score": row["score"],
                    "worse": BAND_RANK[row["band"]] < BAND_RANK[before["band"]],
                }
            )
        previous[key] = row
    changes.sort(key=lambda c: (c["day"], c["customer"]), reverse=True)
    return changes
