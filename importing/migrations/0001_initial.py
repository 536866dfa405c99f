"""ImportJob moves here from accounts, keeping its table and rows.

The model's state is created here without touching the database (the table exists as
`accounts_importjob` since accounts 0001), then the table is renamed to this app's
`importing_importjob`. The content type follows, so admin permissions and log entries
granted on import jobs stay valid. No other table references import jobs and the model
has no audit history, so nothing else moves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, schema_editor, old_label, new_label):
    types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    # A type under the new label may exist already (created after a partial rollback); keep that one.
    if not types.filter(app_label=new_label, model="importjob").exists():
        types.filter(app_label=old_label, model="importjob").update(app_label=new_label)


def move_content_type(apps, schema_editor):
    _move_content_type(apps, schema_editor, "accounts", "importing")


def move_content_type_back(apps, schema_editor):
    _move_content_type(apps, schema_editor, "importing", "accounts")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0003_historicalcustomer_historicalsubscription"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportJob",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=30)),
                        ("file", models.FileField(upload_to="imports/%Y/%m/")),
                        ("original_name", models.CharField(blank=True, max_length=255)),
                        ("skip_errors", models.BooleanField(default=False)),
                        ("dry_run", models.BooleanField(default=False)),
                        (
                            "status",
                            models.CharField(
                                choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                                default="queued",
                                max_length=10,
                            ),
                        ),
                        ("rows_total", models.PositiveIntegerField(default=0)),
                        ("rows_done", models.PositiveIntegerField(default=0)),
                        ("rows_failed", models.PositiveIntegerField(default=0)),
                        ("rows_created", models.PositiveIntegerField(default=0)),
                        ("rows_updated", models.PositiveIntegerField(default=0)),
                        ("errors", models.JSONField(blank=True, default=list)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"ordering": ["-created_at"], "db_table": "accounts_importjob"},
                ),
            ],
            database_operations=[],
        ),
        # The table takes this app's name: accounts_importjob → importing_importjob.
        migrations.AlterModelTable(name="importjob", table=None),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
