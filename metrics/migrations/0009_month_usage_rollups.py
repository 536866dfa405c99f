"""The monthly usage rollups the KPI engine reads for whole months (metrics.rollups), filled
from the day rollups already stored.

Plain tables on both databases: a row per user (or customer and event type) and month,
not per event or day (docs/scaling.md, "Event storage").
"""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    # Through the current code: these tables are the ones created just above, and the day
    # rollups it reads have not changed since metrics 0007.
    from metrics.rollups import rebuild_months

    rebuild_months()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_usage_event_partitions'),
        ('metrics', '0008_merge_portfolio_figures_rollup_partitions'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerMonthFeature',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('month', models.DateField(help_text="The month's first day.")),
                ('event_type', models.CharField(max_length=100)),
                ('events', models.PositiveIntegerField()),
                ('customer', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['month', 'event_type'], name='custmonthfeature_month_type')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'month', 'event_type'), name='custmonthfeature_unique')],
            },
        ),
        migrations.CreateModel(
            name='UserMonthActivity',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('month', models.DateField(help_text="The month's first day.")),
                ('days', models.PositiveIntegerField(help_text='Days of the month with an event.')),
                ('events', models.PositiveIntegerField()),
                ('sessions', models.PositiveIntegerField(help_text='Sessions starting in the month.')),
                ('session_us', models.BigIntegerField(help_text='Their total duration, in microseconds.')),
                ('contact', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.contact')),
                ('customer', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['month', 'customer'], name='usermonth_month_customer')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'month', 'contact'), name='usermonth_unique')],
            },
        ),
        migrations.AddIndex(
            model_name='usagesession',
            index=models.Index(fields=['customer', 'started_at'], name='session_customer_start'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
