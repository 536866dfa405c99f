"""What metrics does when a lower app reports a change (connected in `MetricsConfig.ready()`)."""

from metrics.rollups import refresh_after_import


def import_finished(sender, result, **kwargs):
    """Rebuild the usage rollups and mark stale the snapshots over what an import (or API write) changed."""
    refresh_after_import(result)
