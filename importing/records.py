"""Single records judged by the import's own rules: the entry point of the REST API's writes.

`record_parse(kind, cells)` runs a record kind's `parse` on one row given as
`{column: text}`, so a JSON write and a CSV line are checked by the same code and their
problems worded the same way. `events_record(rows)` sends a batch of usage events through
the importer's usage-event kind, all or nothing. Writes are announced like an import's
(`importing.signals.import_finished`): `record_written` after a save or delete,
`events_record` and `record_save` by themselves.
"""

from dataclasses import dataclass

from django.db import IntegrityError, models, transaction

from importing.base import ImportResult, RecordKind, Row, Run
from importing.events import UsageEvents
from importing.parsing import CellError, parse_datetime
from importing.runner import KINDS
from importing.signals import announce

SOURCE_NAME = "api"


@dataclass
class ParsedRecord:
    """The model field values of a record, its problems as (column, message), and who already holds its key."""

    values: dict
    errors: list[tuple[str, str]]
    existing_pk: int | None
    key_column: str


def _run(kind: str, columns) -> Run:
    run = Run(kind, SOURCE_NAME, dry_run=False)
    run.index = {column: i for i, column in enumerate(columns)}
    run.width = len(columns)
    return run


def record_parse(kind: str, cells: dict[str, str]) -> ParsedRecord:
    """Check one record of `kind` (not usage events) given as CSV cells; a missing column is a blank cell."""
    kind_class = KINDS[kind]
    if not issubclass(kind_class, RecordKind):
        raise ValueError(f"{kind} records are not checked one at a time")
    # Required columns are always there, as the runner's header check guarantees for a file.
    cells = {**dict.fromkeys(kind_class.required, ""), **cells}
    columns = [column for column in kind_class.columns() if column in cells]
    run = _run(kind, columns)
    handler = kind_class(run)
    row = Row(1, [cells[column] for column in columns], run.index)
    handler.prepare([row])
    values = handler.parse(row)
    existing = None
    if not row.errors:
        key = handler.key(values)
        existing = handler.find_existing({key: values}).get(key)
    return ParsedRecord(values, row.errors, existing, handler.key_column)


def record_resolve(kind: str, values: dict) -> dict:
    """Return a checked record's values ready to save: what its kind creates only for rows it
    writes (a customer's new CSM login) is created now, so a refused record creates nothing."""
    return KINDS[kind](_run(kind, ())).resolve(values)


def record_save(kind: str, cells: dict[str, str]) -> tuple[models.Model | None, ParsedRecord]:
    """Check a record of `kind` as `record_parse` does and, without errors, store and announce it.

    A record whose key is stored already is updated, in the fields whose columns `cells`
    names (as an import updates only the columns of its file); a new one is created.
    For writers outside the REST API, such as the integrations' webhooks and syncs.
    """
    kind_class = KINDS[kind]
    for attempt in range(2):
        parsed = record_parse(kind, cells)
        if parsed.errors:
            return None, parsed
        try:
            with transaction.atomic():
                obj = _save_parsed(kind_class, parsed, cells.keys())
            break
        except IntegrityError:
            if attempt:  # a concurrent writer created the same key first: update it instead
                raise
    record_written(kind, obj)
    return obj, parsed


def _save_parsed(kind_class, parsed: ParsedRecord, columns) -> models.Model:
    model = kind_class.model
    values = kind_class(_run(kind_class.name, ())).resolve(parsed.values)  # e.g. a new CSM's login, only now
    if parsed.existing_pk is None:
        return model.objects.create(**values)
    given = set(columns)
    fields = [name for name, sources in kind_class.field_sources.items() if not sources or given & set(sources)]
    obj = model.objects.get(pk=parsed.existing_pk)
    for name in fields:
        setattr(obj, name, values[name])
    obj.save(update_fields=fields)
    return obj


def record_touched(kind: str, *objs) -> ImportResult:
    """Return an import result saying which customers and instants the written (or deleted) `objs` affect."""
    handler = KINDS[kind](_run(kind, ()))
    for obj in objs:
        handler.touch(obj)
        handler.result.note_row(obj)
    return handler.result


def record_written(kind: str, *objs) -> None:
    """Announce the records of `kind` saved or deleted outside an import (their customers and instants, as an import's)."""
    announce(record_touched(kind, *objs))


def events_record(rows: list[dict[str, str]]) -> ImportResult:
    """Store usage events given as CSV cells, all or none; errors name the row's index as its `line`.

    Events already stored count as `updated` (they are left as they are), as in the import.
    """
    columns = UsageEvents.columns()
    run = _run(UsageEvents.name, columns)
    handler = UsageEvents(run)
    batch = []
    for i, row in enumerate(rows):
        try:
            # The fast path of UsageEvents trusts fromisoformat; instants outside datetime's
            # range after the UTC shift (0001-01-01T00:00+01:00) must be refused here.
            if row.get("occurred_at", "").strip():
                parse_datetime(row["occurred_at"].strip())
        except CellError as exc:
            run.error(i, "occurred_at", exc.message)
            run.result.skipped += 1
            continue
        batch.append((i, [row.get(column, "") for column in columns]))
    with transaction.atomic():
        handler.handle(batch, write=True)
        run.result.committed = not run.result.errors
        if not run.result.committed:
            transaction.set_rollback(True)
            run.result.created = run.result.updated = 0
    if run.result.committed:
        announce(run.result)
    return run.result
