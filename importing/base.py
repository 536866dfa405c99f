"""The import's vocabulary: its result and errors, a row's cells, and what a kind must do.

A *kind* (customers, tickets, …) receives batches of `(line, cells)` from the runner,
validates them, reports every problem through the `Run`, and writes the good rows when
asked. `RecordKind` is the shape shared by every kind except usage events: parse each
row into model field values, refuse a second row with the same key, then upsert the
batch with one lookup query and bulk inserts/updates.
"""

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from accounts.signals import changed_row
from importing import history
from importing.parsing import CellError

NUL_MESSAGE = "contains a NUL character (a zero byte), which cannot be stored; is this really a text file?"
LOOKUP_CHUNK = 900  # stays below SQLite's historic 999-parameter limit
MAX_ERRORS = 10_000  # kept in memory; more are only counted (flat memory on a bad 2 GB file)


@dataclass(frozen=True)
class RowError:
    """One problem: `line` is the physical CSV line (the header is line 1); `column` may be ""."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        where = f'line {self.line}, column "{self.column}"' if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a refused file, would have done).

    `touched_*` tell later refresh steps what changed: the customers, and the earliest and
    latest instant the written rows affect (dates are given as midnight UTC). `created`
    and `updated` are 0 when a file with errors was refused; `errors_not_listed` counts
    errors beyond the first MAX_ERRORS kept in `errors`.
    """

    kind: str
    source_name: str
    dry_run: bool = False
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_not_listed: int = 0
    committed: bool = False
    touched_customer_ids: set[int] = field(default_factory=set)
    touched_from: datetime.datetime | None = None
    touched_to: datetime.datetime | None = None
    # Per written, updated (as before and after) or deleted record: its customer and its
    # dates and instants, from which metrics works out exactly which days changed.
    changed_rows: list[dict] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_not_listed

    def note_row(self, obj) -> None:
        """Record a written or deleted model row of a record kind (see `changed_row`)."""
        self.changed_rows.append(changed_row(obj))

    def touch(self, customer_id=None, *instants):
        """Record that a written row concerns `customer_id` and the given instants."""
        if customer_id is not None:
            self.touched_customer_ids.add(customer_id)
        for instant in instants:
            if instant is None:
                continue
            if self.touched_from is None or instant < self.touched_from:
                self.touched_from = instant
            if self.touched_to is None or instant > self.touched_to:
                self.touched_to = instant


class Run:
    """The state of one import: its file name, header index, result and error reporting."""

    def __init__(self, kind_name, source_name, dry_run):
        self.source_name = source_name
        self.started_at = timezone.now()
        self.result = ImportResult(kind=kind_name, source_name=source_name, dry_run=dry_run)
        self.index: dict[str, int] = {}
        self.width = 0  # cells per row, from the header

    def error(self, line, column, message):
        if len(self.result.errors) < MAX_ERRORS:
            self.result.errors.append(RowError(self.source_name, line, column, message))
        else:
            self.result.errors_not_listed += 1


class Row:
    """One data row; its accessors parse a cell and collect every problem instead of stopping."""

    __slots__ = ("line", "cells", "index", "errors")

    def __init__(self, line, cells, index):
        self.line = line
        self.cells = cells
        self.index = index
        self.errors: list[tuple[str, str]] = []

    def error(self, column, message):
        self.errors.append((column, message))

    def get(self, column, parse=None, *, required=False, max_length=None):
        """Return the cell parsed with `parse`, or None when blank or invalid (the problem is recorded)."""
        i = self.index.get(column)
        text = self.cells[i].strip() if i is not None else ""
        if not text:
            if required:
                self.error(column, "is empty; a value is required")
            return None
        if "\x00" in text:
            self.error(column, NUL_MESSAGE)
            return None
        if max_length is not None and len(text) > max_length:
            self.error(column, f"is {len(text)} characters long; at most {max_length} are allowed")
            return None
        if parse is None:
            return text
        try:
            return parse(text)
        except CellError as exc:
            self.error(column, exc.message)
            return None


def max_length(model, field_name):
    return model._meta.get_field(field_name).max_length


def chunks(items, size=LOOKUP_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Kind:
    """A CSV kind: its columns, and how a batch of rows is validated and written."""

    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    batch_size = 5_000

    def __init__(self, run: Run):
        self.run = run
        self.result = run.result

    @classmethod
    def columns(cls):
        return cls.required + cls.optional

    def handle(self, batch: list[tuple[int, list[str]]], write: bool) -> None:
        """Validate `batch` and, if `write`, store its good rows."""
        raise NotImplementedError


class RecordKind(Kind):
    """A kind whose rows become model instances matched on a key and upserted.

    Subclasses set `model` and `field_sources` (model field -> the columns it comes from;
    an empty tuple means always written) and implement `parse`, `key`, `find_existing`.
    On update only fields whose columns are in the file are written, so a file without,
    say, a `csm` column does not clear owners set in the app.
    """

    model: type[models.Model]
    field_sources: dict[str, tuple[str, ...]] = {}
    key_column = "external_id"  # named in the "same key as line N" error

    def __init__(self, run):
        super().__init__(run)
        self.seen: dict[tuple, int] = {}
        header = set(run.index)
        self.update_fields = [
            name for name, sources in self.field_sources.items() if not sources or header.intersection(sources)
        ]

    def prepare(self, rows: list[Row]) -> None:
        """Load what `parse` needs for this batch in a few queries (e.g. customer ids)."""

    def parse(self, row: Row) -> dict | None:
        """Return the model field values of `row`; problems go to `row.error`."""
        raise NotImplementedError

    def key(self, values: dict) -> tuple:
        raise NotImplementedError

    def find_existing(self, keyed: dict[tuple, dict]) -> dict[tuple, int]:
        """Return the primary keys of stored rows with the given keys."""
        raise NotImplementedError

    def touch(self, obj) -> None:
        """Tell the result which customer and time the written `obj` affects."""
        self.result.touch(obj.customer_id)

    def resolve(self, values: dict) -> dict:
        """Return the values of a row about to be written, creating what `parse` only named (default: as they are).

        `parse` must not write: a row refused later (another cell's error, a duplicate key,
        a refused REST write) leaves nothing behind.
        """
        return values

    def handle(self, batch, write):
        rows = [Row(line, cells, self.run.index) for line, cells in batch]
        self.prepare(rows)
        keyed: dict[tuple, dict] = {}
        for row in rows:
            values = self.parse(row)
            if not row.errors:
                key = self.key(values)
                first = self.seen.get(key)
                if first is not None:
                    row.error(self.key_column, f"same key as line {first}")
                else:
                    self.seen[key] = row.line
                    keyed[key] = values
            if row.errors:
                self.result.skipped += 1
                for column, message in row.errors:
                    self.run.error(row.line, column, message)
        if write and keyed:
            self.upsert(keyed)

    def upsert(self, keyed):
        keyed = {key: self.resolve(values) for key, values in keyed.items()}
        existing = self.find_existing(keyed)
        new = [self.model(**values) for key, values in keyed.items() if key not in existing]
        old = [self.model(pk=existing[key], **values) for key, values in keyed.items() if key in existing]
        if old:  # an updated row's old dates changed too
            for chunk in chunks([o.pk for o in old]):
                for before in self.model.objects.filter(pk__in=chunk):
                    self.result.note_row(before)
        reason = f"import {self.run.source_name}"
        history.bulk_create(self.model, new, reason=reason)
        if old and self.update_fields:
            history.bulk_update(self.model, old, self.update_fields, reason=reason)
        self.result.created += len(new)
        self.result.updated += len(old)
        for obj in new + old:
            self.touch(obj)
            self.result.note_row(obj)
