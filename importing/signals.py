"""What importing tells the apps above it: `import_finished`, once rows written by the import's rules are committed.

It is sent by `importing.services.import_and_announce` (the command line, the admin
upload, import jobs, the demo) and by `importing.records` for the REST API's writes,
with `result`, the ImportResult that says which kind, customers and span of time
changed. metrics connects its refresh of the usage rollups and stale snapshot marks in
`MetricsConfig.ready()`. A dry run or a refused file sends nothing.
"""

from django.dispatch import Signal

from importing.base import ImportResult

import_finished = Signal()  # receivers get `result`


def announce(result: ImportResult) -> None:
    """Send `import_finished` for `result` (rows written and kept)."""
    import_finished.send(sender=ImportResult, result=result)
