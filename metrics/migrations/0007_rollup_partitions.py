"""The usage rollups on PostgreSQL partitioned by month, like the events they derive from.

UserDayActivity and CustomerDayFeature by `day`, UsageSession by `started_at`
(lib.partitions; a no-op on SQLite, so Django's state is unchanged). docs/scaling.md,
"Event storage".
"""

import datetime

from django.db import migrations

from lib.partitions import partition_by_month, unpartition

ROLLUPS = (("UserDayActivity", "day"), ("CustomerDayFeature", "day"), ("UsageSession", "started_at"))


def partition(apps, schema_editor):
    for model, column in ROLLUPS:
        partition_by_month(schema_editor, apps.get_model("metrics", model), column, datetime.date.today())


def unpartitioned(apps, schema_editor):
    for model, column in ROLLUPS:
        unpartition(schema_editor, apps.get_model("metrics", model), column)


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0006_quality_issue"),
        ("accounts", "0008_usage_event_partitions"),
    ]

    operations = [
        migrations.RunPython(partition, unpartitioned, elidable=False),
    ]
