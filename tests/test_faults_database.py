"""Faults: the database unreachable.

Pages answer with the 503 page and the API with its JSON detail, both with Retry-After
(csplatform.middleware); tasks retry instead of failing. On PostgreSQL the connection
really fails (nothing listens on port 1); SQLite's in-memory test database cannot be
taken away, so there every new cursor raises the error SQLite would.
"""

from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import OperationalError, connections

from csplatform.middleware import API_DETAIL, DatabaseUnavailableMiddleware
from metrics import tasks


@pytest.fixture
def unreachable_database(django_db_blocker):
    conn = connections["default"]
    saved = dict(conn.settings_dict)
    with django_db_blocker.unblock():
        try:
            if conn.vendor == "postgresql":
                conn.close()
                conn.settings_dict.update(HOST="127.0.0.1", PORT=1)
                yield
            else:
                with mock.patch.object(conn, "_cursor", side_effect=OperationalError("unable to open database file")):
                    yield
        finally:
            conn.close()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)


def test_a_page_answers_503_with_a_page_saying_so(client, unreachable_database):
    client.cookies["sessionid"] = "a" * 32  # a signed-in browser: the session must be read from the database
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert b"temporarily unavailable" in response.content


def test_the_api_answers_503_with_a_json_detail(client, unreachable_database):
    response = client.get("/api/v1/customers/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": API_DETAIL}


def test_other_errors_are_left_to_the_500_handler(rf):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None


@pytest.mark.parametrize(
    ("task", "args", "patched"),
    [
        (tasks.snapshot_chunk, [["company"], "2024-02-01", "2024-03-01"], "metrics.snapshots.snapshot_write"),
        (tasks.health_snapshot_chunk, [[1], "2024-02-01"], "metrics.tasks.health_snapshot_write"),
        (tasks.snapshots_daily, ["2024-02-02"], "metrics.tasks.fan_out"),  # its families are their own tasks
    ],
    ids=["snapshot_chunk", "health_snapshot_chunk", "snapshots_daily"],
)
def test_a_task_retries_when_the_database_is_unreachable(db, task, args, patched):
    down = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
    with (
        mock.patch(patched, side_effect=down),
        mock.patch.object(task, "retry", side_effect=Retry("retry", down)) as retry,
    ):
        result = task.apply(args=args, throw=False)
    assert result.state == "RETRY"
    assert retry.call_args.kwargs["exc"] is down
    assert task.max_retries and task.retry_backoff
