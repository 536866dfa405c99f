"""Daily health score snapshots and the reads built on them (history, band changes).

A snapshot row is unique per (customer, day, model version) and written with an upsert,
so a re-run rewrites the same rows. The day is an argument; only the beat entry point
in metrics.tasks reads the clock. Customers are scored in bulk per model version
(`health_for_customers`: a fixed number of queries per group).
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from accounts import policy
from accounts.models import Customer
from metrics import kpis
from metrics.health import health_for_customers, health_json
from metrics.health_versions import definition_of, models_for_customers
from metrics.models import HealthModel, HealthScore

BAND_RANK = {band: rank for rank, band in enumerate(reversed(kpis.HEALTH_BANDS))}  # at risk 0 … healthy 2


def health_snapshot_write(day: datetime.date, customer_ids=None, *, computed_at=None) -> int:
    """Score the customers (default: all) at the start of `day` with their published model; upsert rows."""
    customers = Customer.objects.all()
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    segments = dict(customers.values_list("pk", "segment"))
    computed_at = computed_at or timezone.now()
    rows = []
    for model, ids in models_for_customers(segments):
        for customer_id, health in health_for_customers(ids, day, definition_of(model)).items():
            shaped = health_json(health, model.label)
            rows.append(
                HealthScore(
                    customer_id=customer_id, day=day, model=model, score=health.score, band=health.band or "",
                    components=shaped["components"], computed_at=computed_at,
                )  # fmt: skip
            )
    HealthScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer", "day", "model"],
        update_fields=["score", "band", "components", "computed_at"],
    )
    return len(rows)


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
