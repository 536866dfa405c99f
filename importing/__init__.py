"""The CSV import of spec/import.md, its import jobs, and the single-record checks the REST API writes with.

Modules: `parsing` (cell values and messages), `base` (result, rows, the record-kind
pattern), `lookups` (id caches), `kinds` (customers … leads), `events` (usage events,
the fast path; `events_pg` on PostgreSQL), `runner` (`import_file`: files, header,
batches, transaction; the registry of kinds), `records` (one record at a time, for the
REST API), `jobs` (running an ImportJob record with progress), `history` (bulk writes
that keep the audit trail), `uploads` (the size limit).
"""
