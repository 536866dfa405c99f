"""What metrics does when a lower app reports a change (connected in `MetricsConfig.ready()`).

Imports and the REST API's writes arrive as `importing.signals.import_finished`; writes
elsewhere (admin, pages) as `accounts.signals.data_changed`. Both end in
`metrics.invalidation`, so every write marks stale snapshots the same way, and both forget
today's stored health scores of the customers they touched (the pages score them again).
"""

import datetime

from accounts.reporting_time import day_of, today
from accounts.signals import changed_rows
from metrics import invalidation
from metrics.health_snapshots import day_scores_forget
from metrics.rollups import refresh_after_import, refresh_usage


def import_finished(sender, result, **kwargs):
    """Rebuild the usage rollups, then mark stale the snapshots over what an import (or API write) changed."""
    refresh_after_import(result)
    invalidation.mark_import(result)
    if result.touched_customer_ids:
        day_scores_forget(result.touched_customer_ids, today())


def data_changed(sender, kind, objs, moved=(), **kwargs):
    """A record written outside an import (admin, a page): the same marks as an import's.

    `moved`: customers whose assigned CSMs changed, so their figures moved between CSMs' scopes.
    """
    if moved:
        invalidation.mark_scopes_moved()
    rows = changed_rows(objs)
    customer_ids = {r["customer_id"] for r in rows if r.get("customer_id")}
    if customer_ids:
        day_scores_forget(customer_ids, today())
    if kind != "usage_events":
        invalidation.mark_rows(kind, rows)
        return
    ids = {r["customer_id"] for r in rows}
    first, last = min(r["occurred_at"] for r in rows), max(r["occurred_at"] for r in rows)
    refresh_usage(ids, day_of(first), day_of(last) + datetime.timedelta(days=1))
    invalidation.mark(kind, invalidation.usage_spans(ids, first, last))
