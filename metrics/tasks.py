"""Celery tasks for KPI snapshots and daily health scores. Arguments are scope labels, ids and ISO dates, never objects."""

import datetime
import logging
from collections import defaultdict

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from accounts import reporting_time
from accounts.models import Customer
from metrics import grouped, rollups, snapshots
from metrics.health_snapshots import health_snapshot_write
from metrics.periods import Period
from metrics.quality import quality_refresh
from metrics.selectors import Scope
from metrics.verification import verification_run

log = logging.getLogger(__name__)
STALE_GROUPED = 20  # stale scopes of one period from which a grouped pass per family is cheaper
TRANSIENT = (OperationalError,)


def _date(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


@shared_task(
    name="metrics.snapshot_chunk",
    autoretry_for=TRANSIENT + (SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,  # idempotent: a re-delivered chunk rewrites the same rows
    reject_on_worker_lost=True,  # a hard-killed chunk goes back to the queue (broker visibility timeout)
    soft_time_limit=settings.CSPLATFORM_CHUNK_SOFT_TIME_LIMIT,
    time_limit=settings.CSPLATFORM_CHUNK_TIME_LIMIT,
)
def snapshot_chunk(scope_labels: list[str], start: str, end: str, keys: list[str] | None = None) -> int:
    """Compute and upsert the snapshots of these scopes for [start, end) (only `keys` when given)."""
    period = Period(_date(start), _date(end))
    written = 0
    for label in scope_labels:
        try:
            scope = Scope.from_label(label)
        except ValueError:
            log.warning("skipping unknown scope %r", label)
            continue
        written += snapshots.snapshot_write(scope, period, keys=keys)
    return written


@shared_task(
    name="metrics.snapshot_family",
    autoretry_for=TRANSIENT + (SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,  # idempotent: a re-delivered family rewrites the same rows
    reject_on_worker_lost=True,
    soft_time_limit=settings.CSPLATFORM_CHUNK_SOFT_TIME_LIMIT,
    time_limit=settings.CSPLATFORM_CHUNK_TIME_LIMIT,
)
def snapshot_family(
    family: str,
    start: str,
    end: str,
    scope_labels: list[str] | None = None,
    keys: list[str] | None = None,
    customers: bool = True,
) -> int:
    """Compute and upsert one KPI family (metrics.grouped) for [start, end) for these scopes (default: every scope,
    without the customer scopes when `customers` is false), in one set-based pass (only `keys` when given)."""
    if family not in grouped.FAMILIES:
        log.warning("skipping unknown KPI family %r", family)
        return 0
    if scope_labels is None:
        labels = snapshots.all_scopes(include_customers=customers)
    else:
        labels = [label for label in scope_labels if _known_scope(label)]
    return snapshots.snapshot_write_family(family, Period(_date(start), _date(end)), labels, keys=keys)


def _known_scope(label: str) -> bool:
    try:
        Scope.from_label(label)
    except ValueError:
        log.warning("skipping unknown scope %r", label)
        return False
    return True


def fan_out(start: datetime.date, end: datetime.date, scopes: list[str] | None = None, *, customers: bool = True) -> int:
    """Queue one task per KPI family for [start, end) over `scopes` (default: every scope, or every scope but the
    customers' when `customers` is false, listed by the task when it runs); return the number of tasks.

    Each family reads all its scopes' inputs in a few grouped queries, so the work splits by
    family and period, not by customer (docs/performance.md, nightly snapshots).
    """
    for family in grouped.FAMILIES:
        snapshot_family.delay(family, start.isoformat(), end.isoformat(), scopes, customers=customers)
    return len(grouped.FAMILIES)


@shared_task(name="metrics.snapshots_stale", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def snapshots_stale() -> int:
    """Recompute the stored snapshots whose periods late data touched.

    Few scopes of a period and key set are recomputed one by one; from STALE_GROUPED scopes on,
    one grouped task per family covers them all.
    """
    pairs = snapshots.stale_periods_take()
    labels_of = defaultdict(list)
    for label, period, keys in pairs:
        labels_of[(period, keys)].append(label)
    for (period, keys), labels in labels_of.items():
        start, end = period.start.isoformat(), period.end.isoformat()
        if len(labels) < STALE_GROUPED:
            for label in labels:
                snapshot_chunk.delay([label], start, end, list(keys))
            continue
        for family, spec in grouped.FAMILIES.items():
            wanted = [k for k in keys if k in spec.keys]
            if wanted:
                snapshot_family.delay(family, start, end, labels, wanted)
    return len(pairs)


@shared_task(name="metrics.quality_checks", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def quality_checks() -> dict:
    """Run the data-quality gate (metrics.quality) and store its findings."""
    return quality_refresh()


@shared_task(name="metrics.snapshots_verify", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def snapshots_verify() -> int:
    """Recompute every stored snapshot live and store the drifts for admins (SnapshotVerification); return them."""
    return verification_run().drift_count


@shared_task(name="metrics.snapshots_daily", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def snapshots_daily(day: str | None = None) -> int:
    """Yesterday and the month to date for the company, every segment and every CSM; customer scopes are stored
    for closed months only (snapshots_monthly), their open month is computed live. Beat calls it without `day`: today."""
    day = _date(day) if day else reporting_time.today()  # the one place the clock is read
    snapshots_stale.delay()
    return sum(fan_out(p.start, p.end, customers=False) for p in snapshots.daily_periods(day))


@shared_task(name="metrics.snapshots_monthly", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def snapshots_monthly(day: str | None = None) -> int:
    """The closed month before `day` for every scope, customers included."""
    day = _date(day) if day else reporting_time.today()
    month = snapshots.closed_month(day)
    return fan_out(month.start, month.end)



# --- Health score snapshots ------------------------------------------------------------

HEALTH_CHUNK = 500


@shared_task(
    name="metrics.health_snapshot_chunk",
    autoretry_for=TRANSIENT + (SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CSPLATFORM_CHUNK_SOFT_TIME_LIMIT,
    time_limit=settings.CSPLATFORM_CHUNK_TIME_LIMIT,
)
def health_snapshot_chunk(customer_ids: list[int], day: str) -> int:
    """Score these customers at the start of `day` and upsert their snapshots (idempotent)."""
    return health_snapshot_write(_date(day), customer_ids)


@shared_task(name="metrics.health_snapshots_daily", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def health_snapshots_daily(day: str | None = None) -> int:
    """Queue one chunk of customers per task for `day` (beat: today); return the number of tasks."""
    day = day or reporting_time.today().isoformat()  # the clock, read at the entry point only
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(ids), HEALTH_CHUNK):
        health_snapshot_chunk.delay(ids[i : i + HEALTH_CHUNK], day)
    return (len(ids) + HEALTH_CHUNK - 1) // HEALTH_CHUNK


# --- Storage ----------------------------------------------------------------------------


@shared_task(name="metrics.usage_partitions_ensure", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def usage_partitions_ensure(day: str | None = None) -> list[str]:
    """Create the usage events' and rollups' month partitions ahead of `day` (beat: today); return the new ones."""
    day = _date(day) if day else reporting_time.today()
    return rollups.partitions_ensure(day)
