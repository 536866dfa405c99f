"""ImportJob now belongs to the importing app (importing 0001 takes over its table and rows)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_historicalcustomer_historicalsubscription"),
        ("importing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ImportJob")]),
    ]
