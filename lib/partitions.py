"""Monthly range partitions on PostgreSQL (declarative partitioning); other databases keep plain tables.

A partitioned table `t` has one partition per calendar month of its partition column,
`t_pYYYY_MM` (months in UTC for instants, plain months for dates), and a default partition
`t_default` that takes any row no month partition exists for yet, so no insert ever fails.
A beat task creates the coming months ahead (`months_ensure`); creating a month that the
default partition already holds rows of moves those rows into the new partition.

`partition_by_month` turns a model's plain table into a partitioned one (a migration's
RunPython): every unique index and the primary key must contain the partition column, so
the primary key becomes (id, column) and a unique constraint without the column gets it
appended (the callers say what that means for them). docs/scaling.md, "Event storage".
"""

import datetime

from django.db import connection as default_connection
from django.db.models import UniqueConstraint

AHEAD = 3  # months created ahead of the current one


def month_start(value: datetime.date | datetime.datetime) -> datetime.date:
    """The first day of the month of a date, or of an instant's month in UTC."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC).date() if value.tzinfo else value.date()
    return value.replace(day=1)


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first, last) -> list[datetime.date]:
    """The months from `first`'s to `last`'s (dates or instants), both included."""
    month, end, months = month_start(first), month_start(last), []
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def partition_name(table: str, month: datetime.date) -> str:
    return f"{table}_p{month:%Y_%m}"


def _bound(month: datetime.date) -> str:
    # Midnight UTC: a timestamptz column reads it as that instant, a date column as the date.
    return f"'{month.isoformat()} 00:00:00+00'"


def is_partitioned(table: str, connection=default_connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def partitions(table: str, connection=default_connection) -> list[str]:
    """Return the names of `table`'s partitions, sorted ([] for a plain table or another database)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def partition_months(table: str, connection=default_connection) -> set[datetime.date]:
    """The months `table` has a partition of."""
    prefix = f"{table}_p"
    return {
        datetime.date(int(name[-7:-3]), int(name[-2:]), 1)
        for name in partitions(table, connection)
        if name.startswith(prefix) and len(name) == len(prefix) + 7
    }


def months_ensure(table: str, column: str, months, connection=default_connection) -> list[str]:
    """Create the partitions of `months` (first days) that do not exist yet, and the default one; return the new ones.

    Idempotent, and a no-op for a plain table. When every month exists it costs one catalog
    query, so writers call it for the months they are about to write. Run it inside a
    transaction (moving rows out of the default partition and attaching go together).
    """
    existing = partitions(table, connection)
    if not existing and not is_partitioned(table, connection):
        return []
    quote = connection.ops.quote_name
    created = []
    default = f"{table}_default"
    with connection.cursor() as cursor:
        if default not in existing:
            cursor.execute(f"CREATE TABLE {quote(default)} PARTITION OF {quote(table)} DEFAULT")
            created.append(default)
        for month in sorted(set(months)):
            name = partition_name(table, month)
            if name not in existing:
                _month_create(cursor, quote, table, column, default, name, month)
                created.append(name)
    return created


def _month_create(cursor, quote, table, column, default, name, month):
    # CREATE TABLE … PARTITION OF would lock the whole parent (ACCESS EXCLUSIVE) to the end of
    # the transaction; a table of the parent's shape attached afterwards takes a lighter lock on
    # it (reads and writes go on), and moves the rows the default partition holds of this
    # month, which the attach would otherwise refuse.
    lower, upper = _bound(month), _bound(add_months(month, 1))
    cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {quote(default)} WHERE {quote(column)} >= {lower} AND {quote(column)} < {upper} "
        f"RETURNING *) INSERT INTO {quote(name)} SELECT * FROM moved"
    )
    cursor.execute(f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} FOR VALUES FROM ({lower}) TO ({upper})")


def months_ahead_ensure(table: str, column: str, today: datetime.date, connection=default_connection) -> list[str]:
    """Create the partitions of last month, this month and the AHEAD months after it, and of any month the default holds."""
    if not is_partitioned(table, connection):
        return []
    this_month = month_start(today)
    months = {add_months(this_month, n) for n in range(-1, AHEAD + 1)}
    return months_ensure(table, column, months | set(_months_with_rows(f"{table}_default", column, connection)), connection)


def _months_with_rows(table: str, column: str, connection) -> list[datetime.date]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # date_trunc of a timestamptz works in the session's time zone: Django's is UTC.
        cursor.execute(f"SELECT DISTINCT date_trunc('month', {quote(column)})::date FROM {quote(table)} ORDER BY 1")
        return [month for (month,) in cursor.fetchall()]


def partition_by_month(schema_editor, model, column: str, today: datetime.date) -> None:
    """Rebuild `model`'s table partitioned by month of `column`, keeping its rows, indexes and constraints.

    PostgreSQL only (a no-op elsewhere, so Django's migration state stays the same on every
    database). The primary key becomes (pk, column); a unique constraint without `column`
    gets it appended. Months are created for every month with rows and around `today`.
    """
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    _rebuild(schema_editor, model, column, partitioned=True, today=today)


def unpartition(schema_editor, model, column: str) -> None:
    """Rebuild a partitioned table as a plain one (the reverse of `partition_by_month`)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _rebuild(schema_editor, model, column, partitioned=False, today=None)


def _rebuild(schema_editor, model, column, *, partitioned, today):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk.column
    new = f"{table}_rebuilt"
    shape = "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS"
    with connection.cursor() as cursor:
        partition_by = f" PARTITION BY RANGE ({quote(column)})" if partitioned else ""
        cursor.execute(f"CREATE TABLE {quote(new)} (LIKE {quote(table)} {shape}){partition_by}")
        if partitioned:
            cursor.execute(f"SELECT DISTINCT date_trunc('month', {quote(column)})::date FROM {quote(table)}")
            months = {month for (month,) in cursor.fetchall()}
            this_month = month_start(today)
            months |= {add_months(this_month, n) for n in range(-1, AHEAD + 1)}
            cursor.execute(f"CREATE TABLE {quote(table + '_default')} PARTITION OF {quote(new)} DEFAULT")
            for month in sorted(months):
                bounds = f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(add_months(month, 1))})"
                cursor.execute(f"CREATE TABLE {quote(partition_name(table, month))} PARTITION OF {quote(new)} {bounds}")
        cursor.execute(f"INSERT INTO {quote(new)} SELECT * FROM {quote(table)}")
        cursor.execute(f"DROP TABLE {quote(table)}")  # with its partitions, when it had some
        cursor.execute(f"ALTER TABLE {quote(new)} RENAME TO {quote(table)}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(f'{table}_{pk}_seq')}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({quote(pk)}), 0) + 1, false) FROM {quote(table)}",
            [table, pk],
        )
        key = f"{quote(pk)}, {quote(column)}" if partitioned else quote(pk)
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} PRIMARY KEY ({key})")
    field_name = next(f.name for f in model._meta.concrete_fields if f.column == column)
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)
    for constraint in model._meta.constraints:
        if partitioned and isinstance(constraint, UniqueConstraint) and field_name not in constraint.fields:
            constraint = UniqueConstraint(
                fields=[*constraint.fields, field_name], condition=constraint.condition, name=constraint.name
            )
        if isinstance(constraint, UniqueConstraint):  # check constraints came with LIKE … INCLUDING CONSTRAINTS
            schema_editor.add_constraint(model, constraint)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quote(table)}")
