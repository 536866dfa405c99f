"""Imports with their side effect: once a file's rows are committed, the apps above hear of it."""

from importing.base import ImportResult
from importing.runner import import_file
from importing.signals import announce


def import_and_announce(kind: str, source, **options) -> ImportResult:
    """Import the CSV `source` as `kind` (see `import_file`); send `import_finished` if rows were written and kept."""
    result = import_file(kind, source, **options)
    if result.committed and not result.dry_run:
        announce(result)
    return result
