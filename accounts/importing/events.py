"""Usage events: millions of rows, imported at close to the speed of PostgreSQL's COPY.

Rows are checked in a tight loop (a row that fails is re-checked cell by cell only to
word its errors), users unknown so far become contacts in bulk, and each batch goes
to the database in one statement: on PostgreSQL a COPY into a temporary table and one
`INSERT … SELECT … ON CONFLICT DO NOTHING`, elsewhere an `INSERT OR IGNORE` executemany.

The unique constraint (contact, occurred_at, event_type) is the de-duplication: an
event already stored, or repeated within the file, is not an error and is counted in
`updated` (it is left unchanged). Keeping a set of millions of keys would break the
flat-memory promise for no gain.
"""

import datetime

from django.db import connection
from django.db.models.constants import OnConflict

from accounts.importing.base import Kind, Row, max_length
from accounts.importing.lookups import ContactIds, CustomerIds
from accounts.importing.parsing import parse_datetime
from accounts.models import Contact, UsageEvent

COLUMNS = ("customer_id", "contact_id", "event_type", "occurred_at", "session_id")
TEMP_TABLE = "csp_usage_import"
UTC = datetime.UTC


class UsageEvents(Kind):
    name = "usage_events"
    required = ("customer_external_id", "user_external_id", "event_type", "occurred_at")
    optional = ("session_id",)
    batch_size = 20_000

    def __init__(self, run):
        super().__init__(run)
        self.customers = CustomerIds()
        self.contacts = ContactIds()
        self.user_length = max_length(Contact, "external_id")
        self.text_length = max_length(UsageEvent, "event_type")
        self.write_rows = copy_rows if connection.vendor == "postgresql" else insert_rows

    def handle(self, batch, write):
        index = self.run.index
        ci, ui, ei, oi = (index[c] for c in self.required)
        si = index.get("session_id")
        self.customers.load({cells[ci].strip() for _, cells in batch})
        customer_ids = self.customers.ids
        user_length, text_length = self.user_length, self.text_length
        fromisoformat = datetime.datetime.fromisoformat
        good = []
        for line, cells in batch:
            try:
                customer_id = customer_ids[cells[ci].strip()]
                user, event_type = cells[ui].strip(), cells[ei].strip()
                session = cells[si].strip() if si is not None else ""
                if not user or not event_type or len(user) > user_length or len(event_type) > text_length:
                    raise ValueError
                if len(session) > text_length:
                    raise ValueError
                when = fromisoformat(cells[oi].strip())
            except (KeyError, ValueError):
                self.report(line, cells)
                continue
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            good.append((customer_id, user, event_type, when, session))
        if not good:
            return
        self.result.touch(None, min(r[3] for r in good), max(r[3] for r in good))
        self.result.touched_customer_ids.update(r[0] for r in good)
        if write:
            inserted = self.write_rows(self.with_contact_ids(good))
            self.result.created += inserted
            self.result.updated += len(good) - inserted

    def with_contact_ids(self, good):
        """Replace each row's user external id by its contact id, creating unknown users as contacts."""
        missing = self.contacts.load({(r[0], r[1]) for r in good})
        if missing:
            self.contacts.create(missing)
        ids = self.contacts.ids
        return [(c, ids[(c, user)], event_type, when, session) for c, user, event_type, when, session in good]

    def report(self, line, cells):
        """Word every problem of a row the fast loop refused."""
        row = Row(line, cells, self.run.index)
        self.customers.resolve(row)
        row.get("user_external_id", required=True, max_length=self.user_length)
        row.get("event_type", required=True, max_length=self.text_length)
        row.get("occurred_at", parse_datetime, required=True)
        row.get("session_id", max_length=self.text_length)
        self.result.skipped += 1
        for column, message in row.errors:
            self.run.error(line, column, message)


def copy_rows(rows) -> int:
    """Insert `rows` on PostgreSQL via COPY into a temp table; return how many were new."""
    connection.ensure_connection()
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    columns = ", ".join(COLUMNS)
    # COPY's text format written by hand: several times faster than write_row per row.
    text = "".join(
        f"{c}\t{k}\t{_copy_text(e)}\t{w.isoformat()}\t{_copy_text(s)}\n" for c, k, e, w, s in rows
    )
    with connection.connection.cursor() as cursor:
        # Temp tables are per session; ON COMMIT DROP cleans up with the import's transaction.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {TEMP_TABLE} (customer_id bigint, contact_id bigint, "
            "event_type varchar(100), occurred_at timestamptz, session_id varchar(100)) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {TEMP_TABLE}")
        with cursor.copy(f"COPY {TEMP_TABLE} ({columns}) FROM STDIN") as copy:
            copy.write(text)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {TEMP_TABLE} "
            "ON CONFLICT (contact_id, occurred_at, event_type) DO NOTHING"
        )
        return cursor.rowcount


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


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
    params = [(c, k, e, adapt(w), s) for c, k, e, w, s in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount
