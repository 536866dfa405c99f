"""Usage events without foreign-key triggers, and on PostgreSQL partitioned by month of occurred_at.

The partitioning is PostgreSQL's alone (lib.partitions; a no-op on SQLite), so Django's
state is unchanged by it: the table keeps its model. docs/scaling.md, "Event storage".
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models

from lib.partitions import partition_by_month, unpartition


def partition(apps, schema_editor):
    partition_by_month(schema_editor, apps.get_model("accounts", "UsageEvent"), "occurred_at", datetime.date.today())


def unpartitioned(apps, schema_editor):
    unpartition(schema_editor, apps.get_model("accounts", "UsageEvent"), "occurred_at")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_customer_name_lower_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='usageevent',
            name='contact',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.contact'),
        ),
        migrations.AlterField(
            model_name='usageevent',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.customer'),
        ),
        migrations.RunPython(partition, unpartitioned, elidable=False),
    ]
