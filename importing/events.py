"""Usage events: millions of rows, imported at close to the speed of PostgreSQL's COPY.

This module owns the `usage_events` kind: its columns, the wording of its errors
(`EventRowChecker`, the one place that decides what a valid row is), and the path used
on databases other than PostgreSQL. The PostgreSQL path lives in `events_pg`: it COPYs
each batch's cells as text into a staging table and checks and writes them with a few
set-based statements; rows its SQL cannot vouch for come back here to be judged.

Elsewhere (SQLite) rows are checked in a tight loop (a row that fails is re-checked
cell by cell only to word its errors), users unknown so far become contacts in bulk,
and each batch is written with one `INSERT OR IGNORE` executemany.

The unique constraints are the de-duplication: an event without an `event_id` is the
same event as a stored one (or one earlier in the file) with the same contact,
occurred_at and event_type; an event with an `event_id` (Segment's messageId) is the
same as the customer's stored event with that id, and only that. A duplicate is not an
error and is counted in `updated` (it is left unchanged). Keeping a set of millions of
keys would break the flat-memory promise for no gain.
"""

import datetime

from django.db import connection
from django.db.models.constants import OnConflict

from accounts.models import Contact, UsageEvent
from importing.base import Kind, Row, max_length
from importing.lookups import ContactIds, CustomerIds
from importing.parsing import parse_datetime
from lib.dates import EARLIEST, LATEST

COLUMNS = ("customer_id", "contact_id", "event_type", "occurred_at", "session_id", "event_id")
CELLS = ("customer_external_id", "user_external_id", "event_type", "occurred_at", "session_id", "event_id")
_CELL_INDEX = {column: i for i, column in enumerate(CELLS)}
UTC = datetime.UTC
EARLIEST_INSTANT = datetime.datetime.combine(EARLIEST, datetime.time(), tzinfo=UTC)
LATEST_INSTANT = datetime.datetime.combine(LATEST, datetime.time.max, tzinfo=UTC)


class EventRowChecker:
    """Judges one row from its six stripped cells (in `CELLS` order) and words its errors."""

    def __init__(self, customers: CustomerIds):
        self.customers = customers
        self.user_length = max_length(Contact, "external_id")
        self.text_length = max_length(UsageEvent, "event_type")

    def check(self, line, cells) -> tuple[Row, datetime.datetime | None]:
        """Return the checked row (`row.errors` lists its problems) and its UTC instant."""
        row = Row(line, cells, _CELL_INDEX)
        self.customers.load([cells[0]])
        self.customers.resolve(row)
        row.get("user_external_id", required=True, max_length=self.user_length)
        row.get("event_type", required=True, max_length=self.text_length)
        occurred_at = row.get("occurred_at", parse_datetime, required=True)
        row.get("session_id", max_length=self.text_length)
        row.get("event_id", max_length=self.text_length)
        return row, occurred_at


class UsageEvents(Kind):
    name = "usage_events"
    required = ("customer_external_id", "user_external_id", "event_type", "occurred_at")
    optional = ("session_id", "event_id")
    batch_size = 50_000

    def __init__(self, run):
        super().__init__(run)
        self.customers = CustomerIds()
        self.checker = EventRowChecker(self.customers)
        self.staged = None
        if connection.vendor == "postgresql":
            from importing.events_pg import StagedEvents  # here: events_pg imports this module's CELLS

            self.staged = StagedEvents(self)
        else:
            self.contacts = ContactIds()

    def cells(self, cells) -> tuple[str, ...]:
        """Return a CSV row's stripped cells in `CELLS` order ("" for an absent optional column)."""
        index = self.run.index
        return tuple(cells[index[c]].strip() if c in index else "" for c in CELLS)

    def report(self, line, cells) -> datetime.datetime | None:
        """Check a row the fast path could not vouch for: report its errors, or return its UTC instant."""
        row, occurred_at = self.checker.check(line, cells)
        if not row.errors:
            return occurred_at
        self.result.skipped += 1
        for column, message in row.errors:
            self.run.error(line, column, message)
        return None

    def handle(self, batch, write):
        if self.staged is not None:
            self.staged.handle(batch, write)
        else:
            self.handle_in_python(batch, write)

    def handle_in_python(self, batch, write):
        """Check `batch` in Python and write it with INSERT-or-ignore (databases other than PostgreSQL)."""
        index = self.run.index
        ci, ui, ei, oi = (index[c] for c in self.required)
        si, ii = index.get("session_id"), index.get("event_id")
        self.customers.load({cells[ci].strip() for _, cells in batch})
        customer_ids = self.customers.ids
        user_length, text_length = self.checker.user_length, self.checker.text_length
        fromisoformat = datetime.datetime.fromisoformat
        good = []
        for line, cells in batch:
            try:
                customer_id = customer_ids[cells[ci].strip()]
                user, event_type = cells[ui].strip(), cells[ei].strip()
                session = cells[si].strip() if si is not None else ""
                event_id = cells[ii].strip() if ii is not None else ""
                if not user or not event_type or len(user) > user_length or len(event_type) > text_length:
                    raise ValueError
                if len(session) > text_length or len(event_id) > text_length:
                    raise ValueError
                when = fromisoformat(cells[oi].strip())
            except (KeyError, ValueError):
                self.report(line, self.cells(cells))
                continue
            try:
                when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            except OverflowError:  # outside datetime's range once in UTC: let the checker word it
                self.report(line, self.cells(cells))
                continue
            if not EARLIEST_INSTANT <= when <= LATEST_INSTANT:  # outside the accepted window (lib.dates)
                self.report(line, self.cells(cells))
                continue
            good.append((customer_id, user, event_type, when, session, event_id))
        if not good:
            return
        self.result.touch(None, min(r[3] for r in good), max(r[3] for r in good))
        self.result.touched_customer_ids.update(r[0] for r in good)
        if write:
            inserted = insert_rows(self.with_contact_ids(good))
            self.result.created += inserted
            self.result.updated += len(good) - inserted

    def with_contact_ids(self, good):
        """Replace each row's user external id by its contact id, creating unknown users as contacts."""
        missing = self.contacts.load({(r[0], r[1]) for r in good})
        if missing:
            self.contacts.create(missing)
        ids = self.contacts.ids
        return [(c, ids[(c, user)], event_type, when, session, eid) for c, user, event_type, when, session, eid in good]


def insert_rows(rows) -> int:
    """Insert `rows` with the backend's INSERT-or-ignore; return how many were new."""
    ops = connection.ops
    table = ops.quote_name(UsageEvent._meta.db_table)
    fields = [UsageEvent._meta.get_field(name) for name in COLUMNS]
    sql = "{} {} ({}) VALUES ({}) {}".format(
        ops.insert_statement(on_conflict=OnConflict.IGNORE),
        table,
        ", ".join(COLUMNS),
        ", ".join(["%s"] * len(COLUMNS)),
        ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None),
    )
    adapt = ops.adapt_datetimefield_value
    params = [(c, k, e, adapt(w), s, i) for c, k, e, w, s, i in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount
