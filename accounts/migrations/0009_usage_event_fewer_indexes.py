"""Usage events with two B-tree indexes instead of four: one index write fewer per event for each of the two changes.

1. *One key for duplicates and for reads by customer and time.* `usage_event_key` is unique
   on (customer, occurred_at, contact, event_type, event_id). For an event without an id
   (event_id '') it is the re-import key (contact, occurred_at, event_type) of the former
   partial `usage_event_unique`, since a contact belongs to one customer; an event with an
   id keeps its own key `usage_event_unique_id`. Led by (customer, occurred_at), it also
   serves everything `usage_customer_time` served (the rollup refresh, a customer's events
   in the API and the admin, the cascade delete of a customer's events), so both go.
2. *The primary key in time order* (PostgreSQL). The month-partitioned table's primary key
   must hold `occurred_at`; the order of its columns is free. As (occurred_at, id) it serves
   every time-ordered read `usage_time (occurred_at)` served (the REST API's cursor pages,
   `ORDER BY occurred_at, id`, and the admin list, `ORDER BY occurred_at DESC, id DESC`,
   both without a sort), so `usage_time` goes. Lookups by id alone (an admin change page, a
   delete of selected events) read `usage_id_brin`, a BRIN index on id: ids grow with the
   order rows are appended in, so each month partition's few block ranges find a row, and
   the index costs almost nothing to keep (`autosummarize` summarises each filled range).

Django's state drops `usage_time`. SQLite keeps the index it has (its rowid is the id, so
`(occurred_at)` there already serves `ORDER BY occurred_at, id`); the primary key's order
and the BRIN index are PostgreSQL's alone. On a large installation the new key and primary
key are built over every partition: plan the migration as a downtime.
docs/scaling.md, "Event storage".
"""

from django.db import migrations, models

TABLE = "accounts_usageevent"


def time_ordered_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (occurred_at, id)")
    schema_editor.execute("DROP INDEX IF EXISTS usage_time")
    schema_editor.execute(
        f"CREATE INDEX usage_id_brin ON {TABLE} USING brin (id) WITH (pages_per_range = 32, autosummarize = on)"
    )


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
        migrations.AddConstraint(
            model_name="usageevent",
            constraint=models.UniqueConstraint(
                fields=("customer", "occurred_at", "contact", "event_type", "event_id"), name="usage_event_key"
            ),
        ),
        migrations.RemoveConstraint(model_name="usageevent", name="usage_event_unique"),
        migrations.RemoveIndex(model_name="usageevent", name="usage_customer_time"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="usageevent", name="usage_time")],
            database_operations=[migrations.RunPython(time_ordered_key, id_ordered_key, elidable=False)],
        ),
    ]
