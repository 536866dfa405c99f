"""Writes with side effects in metrics: imports that keep rollups fresh, snapshots."""

from importing.runner import import_file


def import_and_refresh(kind, source, **options):
    """Import a CSV through importing.runner, then refresh the rollups and stale marks it touches."""
    result = import_file(kind, source, **options)
    if result.committed and not result.dry_run:
        from metrics.rollups import refresh_after_import

        refresh_after_import(result)
    return result
