"""CSV import of spec/import.md: `import_file(kind, source, …)` and its result.

Modules: `parsing` (cell values and messages), `base` (result, rows, the record-kind
pattern), `lookups` (id caches), `kinds` (customers … leads), `events` (usage events,
the fast path), `runner` (files, header, batches, transaction), `jobs` (running an
ImportJob record with progress).
"""

from accounts.importing.base import ImportResult, RowError
from accounts.importing.runner import KINDS, import_file

__all__ = ["KINDS", "ImportResult", "RowError", "import_file"]
