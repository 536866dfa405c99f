"""Prove stored numbers: recompute stored KPI snapshots live and list every one that drifted.

`snapshot_drift(start, end)` recomputes, for each stored (scope, period) of the current
definition version whose period lies in [start, end), every KPI live and compares value,
numerator and denominator with the stored row (at the API's 6 places). `verify_snapshots`
(command, weekly beat task) stores the outcome as a `SnapshotVerification` admins see.
"""

import datetime
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.utils import timezone

from metrics.kpis import round_value
from metrics.models import KpiSnapshot, SnapshotVerification
from metrics.periods import Period
from metrics.selectors import Scope, compute_kpis, definition_version

FIELDS = ("value", "numerator", "denominator")
MAX_LISTED = 1000  # drifts kept in a stored verification; more are only counted


@dataclass(frozen=True)
class Drift:
    metric: str
    scope: str
    period_start: str
    period_end: str
    field: str
    stored: str | None
    live: str | None


def _same(stored, live) -> bool:
    return round_value(None if stored is None else Decimal(stored)) == round_value(live)


def _text(value) -> str | None:
    return None if value is None else format(round_value(Decimal(value)).normalize(), "f")


def snapshot_drift(start: datetime.date | None = None, end: datetime.date | None = None) -> tuple[int, list[Drift]]:
    """Return (snapshots checked, drifts) over the stored snapshots with periods inside [start, end)."""
    stored = KpiSnapshot.objects.filter(definition_version=definition_version())
    if start:
        stored = stored.filter(period_start__gte=start)
    if end:
        stored = stored.filter(period_end__lte=end)
    by_pair: dict[tuple, list] = {}
    for row in stored.order_by("scope", "period_start", "period_end", "metric").values(
        "metric", "scope", "period_start", "period_end", *FIELDS
    ):
        by_pair.setdefault((row["scope"], row["period_start"], row["period_end"]), []).append(row)
    checked, drifts = 0, []
    for (label, period_start, period_end), rows in by_pair.items():
        try:
            scope = Scope.from_label(label)
        except ValueError:
            continue
        live = compute_kpis(scope, Period(period_start, period_end), [r["metric"] for r in rows])
        for row in rows:
            checked += 1
            kpi = live[row["metric"]]
            for field in FIELDS:
                if not _same(row[field], getattr(kpi, field)):
                    drifts.append(
                        Drift(row["metric"], label, period_start.isoformat(), period_end.isoformat(), field,
                              _text(row[field]), _text(getattr(kpi, field)))  # fmt: skip
                    )
    return checked, drifts


def verification_run(start=None, end=None) -> SnapshotVerification:
    """Check the stored snapshots and store the outcome."""
    started = timezone.now()
    checked, drifts = snapshot_drift(start, end)
    return SnapshotVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        period_start=start,
        period_end=end,
        checked=checked,
        drift_count=len(drifts),
        drifts=[asdict(d) for d in drifts[:MAX_LISTED]],
    )
