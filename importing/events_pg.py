"""Usage events on PostgreSQL: vet a batch column by column, COPY it to a staging table, write in SQL.

Per batch (tens of thousands of rows) Python does no per-row work beyond stripping the
cells and writing them as COPY text:

1. `vet` checks whole columns at C speed (set of customer ids, min/max lengths, one
   `fromisoformat` map, the set of datetime shapes). Only a batch that fails goes row by
   row, and only its failing rows go to `EventRowChecker`, which words their errors
   exactly as on SQLite. A row that is fine after all (an ISO form PostgreSQL would not
   read the same way, e.g. `20240201T0930`) gets its instant rewritten in plain form.
2. The vetted rows (line number, customer id, user, event type, instant, session) are
   COPYed into a temporary table; its `occurred_at` is timestamptz, so the text is read
   by COPY itself, in UTC.
3. Users unknown so far become contacts with one INSERT … SELECT DISTINCT.
4. INSERT … SELECT statements for the events without an id and one for those with an id
   write them, de-duplicated against stored rows and within the file: by usage_event_key
   (customer, instant, contact, type, ''), and by (customer, event_id) (checked in the
   SELECT: the partitioned table's unique index also holds the instant). Rows of contacts
   with no stored event in their span are written without probes or ON CONFLICT.

The runner's transaction still wraps everything, so all-or-nothing, --skip-errors and
--dry-run behave as for any other kind. Line numbers come from the runner's csv.reader
(quoted cells spanning lines, blank lines and width errors are handled there, once).
"""

import datetime
import operator
import re

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Contact, UsageEvent
from importing.base import NUL_MESSAGE
from importing.events import CELLS, COLUMNS
from lib import partitions
from lib.dates import EARLIEST, LATEST

STAGE = "csp_usage_stage"
STAGE_COLUMNS = ("line", "customer_id", "user_id", "event_type", "occurred_at", "session_id", "event_id")

# Datetime shapes (digits written as 0) that PostgreSQL reads exactly as Python's
# fromisoformat does once fromisoformat has accepted the value. Other ISO forms
# (basic format, week dates, a comma, 7+ decimals, odd separators) are left to Python.
_SHAPE = re.compile(rb"0000-00-00(?:[T ]00:00(?::00(?:\.0{1,6})?)?(?:Z|[+-]00(?::?00)?)?)?")
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_LARGEST_OFFSET = datetime.timedelta(hours=15, minutes=59)  # PostgreSQL refuses larger ones
_fromisoformat = datetime.datetime.fromisoformat


def _q(name):
    return connection.ops.quote_name(name)


_CONTACT = _q(Contact._meta.db_table)
_EVENT = _q(UsageEvent._meta.db_table)

# Two statements, one per kind of key, so each row is probed against stored rows by the one
# index of its key, and only by it. The probe skips rows already stored (a re-import runs
# about twice as fast as with ON CONFLICT alone, which also draws an id for every
# duplicate); it reaches one month partition (run-time pruning on the instant), except the
# id probe below. It is a LATERAL … LIMIT 1, not NOT EXISTS: the planner, misled by the
# statistics of tables filling up inside the import's transaction, turned NOT EXISTS into
# a nested loop over whole partitions (quadratic); a LATERAL probe is always one index lookup.
# Rows go in by customer, instant and contact, the order of usage_event_key: neighbouring
# index entries, fewer pages touched per batch. ON CONFLICT settles a concurrent import's
# rows; it names no target, since either unique index may be the one a row hits.
#
# References are checked here, set-based, instead of by a foreign-key trigger per row (the
# table has none): customer ids come from the customers the batch was vetted against, and
# the join gives every row its contact (created just before, in the same transaction).
_RESOLVED = f"""
SELECT s.line, s.customer_id, k.id AS contact_id, s.event_type, s.occurred_at, s.session_id, s.event_id
FROM {STAGE} s JOIN {_CONTACT} k ON k.customer_id = s.customer_id AND k.external_id = s.user_id
"""
_INSERT_WITHOUT_ID = f"""
WITH r AS MATERIALIZED ({_RESOLVED} WHERE s.event_id = '' AND (%(every)s OR k.id = ANY(%(near)s)))
INSERT INTO {_EVENT} ({", ".join(COLUMNS)})
SELECT r.customer_id, r.contact_id, r.event_type, r.occurred_at, r.session_id, r.event_id
FROM r LEFT JOIN LATERAL (
    SELECT 1 AS stored FROM {_EVENT} e
    WHERE e.customer_id = r.customer_id AND e.occurred_at = r.occurred_at AND e.contact_id = r.contact_id
      AND e.event_type = r.event_type AND e.event_id = ''
    LIMIT 1
) x ON true
WHERE x.stored IS NULL
ORDER BY r.customer_id, r.occurred_at, r.contact_id
ON CONFLICT DO NOTHING
"""
# Most rows of a first import cannot meet a stored row: a row is new when its contact has
# no stored event (without an id) between the first and the last instant the batch holds
# of that contact. `_NEAR` lists the batch's contacts that do have one, with one probe per
# contact (a LATERAL … LIMIT 1 on usage_event_key, in one month partition or a few), not
# one per row; usually none, or the few at the edges of the batch. Only their rows go
# through `_INSERT_WITHOUT_ID`. The others are written by `_INSERT_NEW`: no probes, and no
# ON CONFLICT either, which for every row would probe each unique index before the insert
# and log a confirmation after it (about a quarter of the statement's work); the file's
# own duplicates are dropped by DISTINCT ON (the first line wins). It runs in a savepoint:
# if a concurrent import stored one of its events first, it fails with a unique violation
# and the whole batch goes through `_INSERT_WITHOUT_ID`, which settles it.
_FEW = 100  # more contacts near stored events (a re-import, an overlapping file): every row is probed
_NEAR = f"""
SELECT c.contact_id FROM (
    SELECT s.customer_id, k.id AS contact_id, min(s.occurred_at) AS first, max(s.occurred_at) AS last
    FROM {STAGE} s JOIN {_CONTACT} k ON k.customer_id = s.customer_id AND k.external_id = s.user_id
    WHERE s.event_id = ''
    GROUP BY s.customer_id, k.id
) c CROSS JOIN LATERAL (
    SELECT 1 FROM {_EVENT} e
    WHERE e.customer_id = c.customer_id AND e.occurred_at >= c.first AND e.occurred_at <= c.last
      AND e.contact_id = c.contact_id AND e.event_id = ''
    LIMIT 1
) x
LIMIT {_FEW + 1}
"""
_INSERT_NEW = f"""
INSERT INTO {_EVENT} ({", ".join(COLUMNS)})
SELECT DISTINCT ON (r.customer_id, r.occurred_at, r.contact_id, r.event_type)
       r.customer_id, r.contact_id, r.event_type, r.occurred_at, r.session_id, r.event_id
FROM ({_RESOLVED} WHERE s.event_id = '' AND k.id <> ALL(%(near)s)) AS r
ORDER BY r.customer_id, r.occurred_at, r.contact_id, r.event_type, r.line
"""
# Events with an id: the stored key is (customer, event_id, occurred_at), since every unique
# index of the month-partitioned table must hold occurred_at. The id alone is checked here,
# against stored rows (one index probe per month partition) and within the batch (the first
# line wins: row_number, a sort, not a self-join the planner might nest), so a source
# resending an event with another timestamp still stores it once.
_INSERT_WITH_ID = f"""
WITH r AS MATERIALIZED (
    SELECT * FROM (
        SELECT q.*, row_number() OVER (PARTITION BY q.customer_id, q.event_id ORDER BY q.line) AS nth
        FROM ({_RESOLVED} WHERE s.event_id <> '') AS q
    ) AS numbered WHERE nth = 1
)
INSERT INTO {_EVENT} ({", ".join(COLUMNS)})
SELECT r.customer_id, r.contact_id, r.event_type, r.occurred_at, r.session_id, r.event_id
FROM r LEFT JOIN LATERAL (
    SELECT 1 AS stored FROM {_EVENT} e WHERE e.event_id <> '' AND e.customer_id = r.customer_id AND e.event_id = r.event_id
    LIMIT 1
) x ON true
WHERE x.stored IS NULL
ON CONFLICT DO NOTHING
"""

# The months as UTC dates: lib.partitions names its month partitions in UTC.
_TOUCHED = f"""
SELECT min(occurred_at), max(occurred_at), array_agg(DISTINCT customer_id),
       array_agg(DISTINCT (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date)
FROM {STAGE}
"""


def _new_contacts_sql():
    """INSERT … SELECT of the stage's users that are not contacts yet, with the model's defaults."""
    fields = [
        f for f in Contact._meta.concrete_fields
        if not f.primary_key and f.name not in ("customer", "external_id") and not f.has_db_default()
    ]  # fmt: skip
    columns = ", ".join(["customer_id", "external_id", *(_q(f.column) for f in fields)])
    # first seen: now, lowered to their first event by metrics' usage refresh
    defaults = [
        f.get_db_prep_save(timezone.now() if f.name == "first_seen_at" else f.get_default(), connection) for f in fields
    ]
    placeholders = "".join(", %s" for _ in fields)
    # NOT EXISTS: sequence numbers only for new users; ON CONFLICT: a concurrent import
    # may create the same user first.
    sql = f"""
        INSERT INTO {_CONTACT} ({columns})
        SELECT n.customer_id, n.user_id{placeholders} FROM (SELECT DISTINCT customer_id, user_id FROM {STAGE}) n
        WHERE NOT EXISTS (SELECT 1 FROM {_CONTACT} k WHERE k.customer_id = n.customer_id AND k.external_id = n.user_id)
        ON CONFLICT (customer_id, external_id) DO NOTHING
    """
    return sql, defaults


class Columns:
    """A batch as columns of stripped cells, the customer column already turned into ids."""

    def __init__(self, lines, customers, users, event_types, instants, sessions, event_ids):
        self.lines, self.customers, self.users = lines, customers, users
        self.event_types, self.instants, self.sessions = event_types, instants, sessions
        self.event_ids = event_ids

    @classmethod
    def of(cls, batch, index):
        def column(name):
            i = index.get(name)
            return [cells[i].strip() for _, cells in batch] if i is not None else [""] * len(batch)

        return cls(
            [line for line, _ in batch],
            column("customer_external_id"),
            column("user_external_id"),
            column("event_type"),
            column("occurred_at"),
            column("session_id"),
            column("event_id"),
        )

    def row(self, i):
        """The i-th row's cells in `events.CELLS` order."""
        return (
            self.customers[i], self.users[i], self.event_types[i], self.instants[i], self.sessions[i], self.event_ids[i]
        )  # fmt: skip

    def keep(self, positions):
        for name in ("lines", "customers", "users", "event_types", "instants", "sessions", "event_ids"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in positions])


class StagedEvents:
    """The PostgreSQL `handle` of a `UsageEvents` import (see the module docstring)."""

    def __init__(self, kind):
        self.kind = kind
        self.result = kind.result
        self.user_length = kind.checker.user_length
        self.text_length = kind.checker.text_length

    def handle(self, batch, write):
        if not batch:
            return
        columns = Columns.of(batch, self.kind.run.index)
        self.kind.customers.load(set(columns.customers))
        if not self.batch_is_clean(columns):
            self.vet_rows(columns)
        if not columns.lines:
            return
        columns.customers = list(map(self.kind.customers.ids.__getitem__, columns.customers))
        with connection.cursor() as cursor:
            self.stage(cursor, copy_text(columns))
            cursor.execute(_TOUCHED)
            first, last, customer_ids, months = cursor.fetchone()
            self.touch(first, last, customer_ids)
            if write:
                # Months without a partition yet (a backfill of old events) get theirs now,
                # rather than filling the default partition.
                partitions.months_ensure(UsageEvent._meta.db_table, "occurred_at", months or [])
                with_ids = any(columns.event_ids)
                without_ids = not with_ids or not all(columns.event_ids)
                self.write(cursor, len(columns.lines), with_ids, without_ids)

    def batch_is_clean(self, c: Columns) -> bool:
        """Whether every row passes, checked a column at a time (no Python loop over rows)."""
        known = self.kind.customers.ids
        if not known.keys() >= set(c.customers) or "" in known:
            return False
        for values, limit in ((c.users, self.user_length), (c.event_types, self.text_length)):
            if min(map(len, values)) == 0 or max(map(len, values)) > limit:
                return False
        if max(map(len, c.sessions)) > self.text_length or max(map(len, c.event_ids)) > self.text_length:
            return False
        if any("\x00" in "".join(values) for values in (c.users, c.event_types, c.sessions, c.event_ids)):
            return False
        return _instants_are_plain(c.instants)

    def vet_rows(self, c: Columns):
        """Check row by row; report and drop the bad rows, rewrite instants Python alone reads."""
        known = self.kind.customers.ids
        kept = []
        for i, line in enumerate(c.lines):
            cells = c.row(i)
            customer, user, event_type, instant, session, event_id = cells
            if any("\x00" in cell for cell in cells):
                self.report_nul(line, cells)
                continue
            fine = (
                customer in known and customer != ""
                and 0 < len(user) <= self.user_length and 0 < len(event_type) <= self.text_length
                and len(session) <= self.text_length and len(event_id) <= self.text_length
                and _instants_are_plain([instant])
            )  # fmt: skip
            if not fine:
                occurred_at = self.kind.report(line, cells)
                if occurred_at is None:
                    continue
                c.instants[i] = occurred_at.isoformat()
            kept.append(i)
        c.keep(kept)

    def report_nul(self, line, cells):
        """PostgreSQL text cannot hold a NUL character: refuse the row rather than alter it."""
        self.result.skipped += 1
        for column, cell in zip(CELLS, cells, strict=True):
            if "\x00" in cell:
                self.kind.run.error(line, column, NUL_MESSAGE)

    def stage(self, cursor, text):
        """Replace the stage's content by `text`, a batch as `copy_text` writes it."""
        # Temp tables live as long as the session; ON COMMIT DROP removes this one with the
        # import's transaction. Created per batch (IF NOT EXISTS): a rolled-back dry run drops it.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line bigint, customer_id bigint, user_id text, "
            "event_type text, occurred_at timestamptz, session_id text, event_id text) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        # Instants without an offset are UTC (Django's sessions are UTC with USE_TZ; this makes sure).
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        with cursor.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
            copy.write(text)

    def write(self, cursor, rows, with_ids, without_ids):
        """Create the new users, insert the events; count new and already stored rows."""
        sql, defaults = _new_contacts_sql()
        cursor.execute(sql, defaults)
        created = 0
        if without_ids:
            created += self.insert_without_ids(cursor)
        if with_ids:
            cursor.execute(_INSERT_WITH_ID)
            created += cursor.rowcount
        # Every staged row has its contact now, so the rest were already stored.
        self.result.created += created
        self.result.updated += rows - created

    def insert_without_ids(self, cursor) -> int:
        """Insert the staged events without an id that are not stored yet; return how many."""
        cursor.execute(_NEAR)
        near = [contact_id for (contact_id,) in cursor.fetchall()]
        if len(near) <= _FEW:
            try:
                with transaction.atomic():
                    cursor.execute(_INSERT_NEW, {"near": near})
                    created = cursor.rowcount
            except IntegrityError:  # a concurrent import stored one of these events first
                pass
            else:
                if near:
                    cursor.execute(_INSERT_WITHOUT_ID, {"every": False, "near": near})
                    created += cursor.rowcount
                return created
        # A re-import, or a file overlapping stored events: probe every row.
        cursor.execute(_INSERT_WITHOUT_ID, {"every": True, "near": []})
        return cursor.rowcount

    def touch(self, first, last, customer_ids):
        if customer_ids:
            self.result.touch(None, first, last)
            self.result.touched_customer_ids.update(customer_ids)


def _instants_are_plain(instants) -> bool:
    """Whether all `instants` are valid and in a shape PostgreSQL reads exactly like Python."""
    try:
        values = list(map(_fromisoformat, instants))
    except ValueError:
        return False
    # Near the edges of the accepted window (lib.dates) offsets matter: Python decides those.
    if min(instants) < f"{EARLIEST.year + 1:04d}" or max(instants) >= f"{LATEST.year:04d}":
        return False
    joined = "\n".join(instants).encode().translate(_DIGITS_AS_ZERO)
    first = joined.split(b"\n", 1)[0]
    shapes = {first} if joined == b"\n".join([first] * len(instants)) else set(joined.split(b"\n"))
    if not all(_SHAPE.fullmatch(shape) for shape in shapes):
        return False
    if any(b"+" in shape or b"-" in shape[10:] for shape in shapes):
        offsets = set(map(operator.methodcaller("utcoffset"), values)) - {None}
        return max(map(abs, offsets), default=datetime.timedelta()) <= _LARGEST_OFFSET
    return True


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(c: Columns) -> str:
    """Return the vetted batch as COPY text rows (line, customer id, user, event type, instant, session, event id).

    The rows are joined without escaping first (fast) and checked as a whole: only a batch
    with a backslash, a tab or a line break inside a cell is built again escaped.
    """
    rows = (c.lines, c.customers, c.users, c.event_types, c.instants, c.sessions, c.event_ids)
    text = "\n".join(map("\t".join, zip(map(str, c.lines), map(str, c.customers), *rows[2:]))) + "\n"
    n = len(c.lines)
    if "\\" not in text and "\r" not in text and text.count("\t") == 6 * n and text.count("\n") == n:
        return text
    return "".join(
        f"{line}\t{customer}\t{_escaped(user)}\t{_escaped(event_type)}\t{instant}\t{_escaped(session)}"
        f"\t{_escaped(event_id)}\n"
        for line, customer, user, event_type, instant, session, event_id in zip(*rows, strict=True)
    )


def _escaped(value: str) -> str:
    return value.translate(_COPY_ESCAPES)

