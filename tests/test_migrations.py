"""Migrations that move data between apps keep it: a database of an older release migrates cleanly."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE_MOVE = [("accounts", "0003_historicalcustomer_historicalsubscription"), ("importing", None)]
AFTER_MOVE = [("accounts", "0004_importjob_moved_to_importing"), ("importing", "0001_initial")]


def migrate(targets):
    """Migrate the test database to `targets`; return the models as they were then."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def test_import_jobs_of_accounts_move_to_importing_with_their_rows_and_permissions():
    old = migrate(BEFORE_MOVE)
    user = old.get_model("auth", "User").objects.create(username="staffer", is_staff=True)
    content_type, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(app_label="accounts", model="importjob")
    permission, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_importjob", defaults={"name": "Can view import job"}
    )
    user.user_permissions.add(permission)
    job = old.get_model("accounts", "ImportJob").objects.create(
        kind="customers", file="imports/crm.csv", original_name="crm.csv", status="done", rows_done=7,
        errors=[{"line": 3, "column": "name", "message": "is empty"}], created_by=user,
    )  # fmt: skip
    try:
        new = migrate(AFTER_MOVE)
        moved = new.get_model("importing", "ImportJob").objects.get()
        assert (moved.pk, moved.original_name, moved.rows_done, moved.created_by_id) == (job.pk, "crm.csv", 7, user.pk)
        assert moved.errors == [{"line": 3, "column": "name", "message": "is empty"}]
        assert "importing_importjob" in connection.introspection.table_names()
        assert "accounts_importjob" not in connection.introspection.table_names()
        permission = new.get_model("auth", "Permission").objects.get(pk=permission.pk)
        assert (permission.content_type.app_label, permission.content_type.model) == ("importing", "importjob")
        # and back: an older release finds its table where it left it
        migrate(BEFORE_MOVE)
        assert "accounts_importjob" in connection.introspection.table_names()
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
