"""What metrics does when a lower app reports a change (connected in `MetricsConfig.ready()`)."""

import datetime

from metrics.health_snapshots import day_scores_forget
from metrics.periods import reporting_tz
from metrics.rollups import refresh_after_import


def import_finished(sender, result, **kwargs):
    """Rebuild the usage rollups and mark stale the snapshots over what an import (or API write) changed;
    forget today's stored health scores of the customers it touched (the pages score them again)."""
    refresh_after_import(result)
    if result.touched_customer_ids:
        day_scores_forget(result.touched_customer_ids, datetime.datetime.now(reporting_tz()).date())
