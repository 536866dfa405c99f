"""KPI snapshots: compute a scope's KPIs for a period and upsert them, idempotently.

A snapshot row is unique per (metric, scope, period, definition version), so running
the same work twice rewrites the same rows. Periods are always arguments; the only
place that reads the clock is the beat entry point in metrics.tasks.
"""

import datetime
import json
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Customer
from accounts.roles import CSM
from metrics.models import KpiSnapshot, StaleRange
from metrics.periods import Period, add_months
from metrics.presenters import kpi_json
from metrics import grouped, invalidation
from metrics.selectors import KPI_KEYS, Scope, compute_kpis, definition_version

UPDATE_FIELDS = ["value", "numerator", "denominator", "reason", "extra", "computed_at"]


def _json_extra(extra: dict) -> dict:
    """Make a Kpi's extra JSON-safe (nested Kpis become their figures)."""
    out = {}
    for name, value in extra.items():
        if isinstance(value, dict):
            out[name] = {k: kpi_json(k, v) if hasattr(v, "value") else v for k, v in value.items()}
        elif hasattr(value, "as_tuple"):
            out[name] = str(value)
        else:
            out[name] = value
    return out


UNIQUE_FIELDS = ["metric", "scope", "period_start", "period_end", "definition_version"]
FIELDS = ["metric", "scope", "period_start", "period_end", *UPDATE_FIELDS[:-1], "definition_version", "computed_at"]
BATCH = 20_000  # rows per upsert of a family's pass
COPY_FROM = 1_000  # rows from which the upsert goes through COPY (PostgreSQL); one scope's 33 rows need no temporary table


def _row(key: str, label: str, period: Period, kpi, version: str, computed_at: datetime.datetime) -> tuple:
    """One snapshot row as the values of FIELDS."""
    return (
        key, label, period.start, period.end, kpi.value, kpi.numerator, kpi.denominator, kpi.reason,
        _json_extra(kpi.extra), version, computed_at,
    )  # fmt: skip


def _upsert(rows: list[tuple]) -> None:
    """Insert or update these rows (values of FIELDS) on the unique key: many through a COPY into a temporary table
    and one INSERT … ON CONFLICT on PostgreSQL (a family's pass writes a row per scope and KPI), else bulk_create."""
    alias = router.db_for_write(KpiSnapshot)
    connection = connections[alias]
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        objects = [KpiSnapshot(**dict(zip(FIELDS, row))) for row in rows]
        KpiSnapshot.objects.using(alias).bulk_create(
            objects, batch_size=2000, update_conflicts=True, unique_fields=UNIQUE_FIELDS, update_fields=UPDATE_FIELDS
        )
        return
    table, columns = KpiSnapshot._meta.db_table, ", ".join(FIELDS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in UPDATE_FIELDS)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE kpi_snapshot_load AS SELECT {columns} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY kpi_snapshot_load ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:8], json.dumps(row[8]), *row[9:]))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM kpi_snapshot_load"
            f" ON CONFLICT ({', '.join(UNIQUE_FIELDS)}) DO UPDATE SET {updates}"
        )
        cursor.execute("DROP TABLE kpi_snapshot_load")  # now, not at commit: the caller's transaction may go on


def snapshot_write(
    scope: Scope, period: Period, *, keys=None, computed_at: datetime.datetime | None = None
) -> int:
    """Compute the KPIs `keys` (default: all) of `scope` for `period` and upsert one snapshot row each; return the count."""
    version = definition_version()
    computed_at = computed_at or timezone.now()
    rows = [_row(key, scope.label, period, kpi, version, computed_at) for key, kpi in compute_kpis(scope, period, keys).items()]
    _upsert(rows)
    return len(rows)


def snapshot_write_family(
    family: str,
    period: Period,
    labels: list[str] | None = None,
    *,
    keys=None,
    computed_at: datetime.datetime | None = None,
) -> int:
    """Compute one KPI family (metrics.grouped) for every scope in `labels` (default: all_scopes()) in one
    set-based pass (only `keys` when given) and upsert its rows in batches; return the count. Same rows as snapshot_write per scope."""
    version = definition_version()
    computed_at = computed_at or timezone.now()
    labels = all_scopes() if labels is None else labels
    written, rows = 0, []
    for label, figures in grouped.family_kpis(family, labels, period):
        rows.extend(
            _row(key, label, period, kpi, version, computed_at) for key, kpi in figures.items() if keys is None or key in keys
        )
        if len(rows) >= BATCH:
            _upsert(rows)
            written, rows = written + len(rows), []
    if rows:
        _upsert(rows)
    return written + len(rows)


def all_scopes(include_customers: bool = True) -> list[str]:
    """Return the labels of every scope snapshots are kept for."""
    scopes = ["company"]
    segments = Customer.objects.exclude(segment="").values_list("segment", flat=True).distinct().order_by("segment")
    scopes += [f"segment:{s}" for s in segments]
    csms = get_user_model().objects.filter(groups__name=CSM).values_list("username", flat=True).order_by("username")
    scopes += [f"csm:{u}" for u in csms]
    if include_customers:
        scopes += [f"customer:{pk}" for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)]
    return scopes


def daily_periods(day: datetime.date) -> list[Period]:
    """The periods the daily run keeps: yesterday, and the month to date (when it has begun)."""
    periods = [Period(day - datetime.timedelta(days=1), day)]
    if day.day != 1:
        periods.append(Period(day.replace(day=1), day))
    return periods


def closed_month(day: datetime.date) -> Period:
    """The last calendar month that ended on or before `day`."""
    return Period(add_months(day, -1), day.replace(day=1))


@transaction.atomic
def stale_periods_take() -> list[tuple[str, Period, tuple[str, ...]]]:
    """Return (scope, period, KPI keys) of stored snapshots that changed data touched, and clear the marks.

    A range marks the periods overlapping it, for the KPIs reading its input (metrics.catalogue).
    """
    ranges = list(StaleRange.objects.select_for_update())
    if not ranges:
        return []
    keys_of = defaultdict(set)
    for name in {r.input for r in ranges}:
        overlap = Q()
        for r in ranges:
            if r.input == name:
                overlap |= Q(period_start__lt=r.end, period_end__gt=r.start)
        pairs = (
            KpiSnapshot.objects.filter(overlap, definition_version=definition_version())
            .values_list("scope", "period_start", "period_end")
            .order_by()
            .distinct()
        )
        for pair in pairs:
            keys_of[pair].update(invalidation.keys_of_input(name))
    StaleRange.objects.filter(pk__in=[r.pk for r in ranges]).delete()
    order = {key: i for i, key in enumerate(KPI_KEYS)}
    return [
        (scope, Period(start, end), tuple(sorted(keys, key=order.__getitem__)))
        for (scope, start, end), keys in sorted(keys_of.items())
    ]
