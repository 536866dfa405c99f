"""Usage events: the primary key in time order replaces the `usage_time` index (PostgreSQL), one index write fewer per event.

On PostgreSQL the month-partitioned table's primary key must hold `occurred_at`; the order
of its columns is free. As `(occurred_at, id)` it serves every time-ordered read the
`usage_time (occurred_at)` index served (the REST API's cursor pages, `ORDER BY occurred_at,
id`, and the admin list, `ORDER BY occurred_at DESC, id DESC`, both without a sort), so
`usage_time` is dropped and an import writes three B-tree indexes per event instead of
four. Lookups by id alone (an admin change page, a delete of selected events) read
`usage_id_brin`, a BRIN index on id: ids grow with the order rows are appended in, so
each month partition's few block ranges find a row, and the index costs almost nothing to
keep. docs/scaling.md, "Event storage".

Django's state drops `usage_time`. SQLite keeps the index it has (its rowid is the id, so
`(occurred_at)` there already serves `ORDER BY occurred_at, id`); the primary key and the
BRIN index exist on PostgreSQL only. On a large installation the new primary key is built
over every partition: plan the migration as a short downtime.
"""

from django.db import migrations

TABLE = "accounts_usageevent"


def time_ordered_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (occurred_at, id)")
    schema_editor.execute("DROP INDEX IF EXISTS usage_time")
    schema_editor.execute(f"CREATE INDEX usage_id_brin ON {TABLE} USING brin (id) WITH (pages_per_range = 32, autosummarize = on)")


def id_ordered_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS usage_id_brin")
    schema_editor.execute(f"CREATE INDEX usage_time ON {TABLE} (occurred_at)")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, occurred_at)")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0008_usage_event_partitions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="usageevent", name="usage_time")],
            database_operations=[migrations.RunPython(time_ordered_key, id_ordered_key, elidable=False)],
        ),
    ]
