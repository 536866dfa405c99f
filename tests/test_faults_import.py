"""Faults: an import killed half-way leaves nothing of its file; run again, it imports every row once.

On PostgreSQL `manage.py import_csv` runs in a child process and is killed with SIGKILL
once it holds a write lock on the events table (it has begun writing inside its one
transaction). In-process, a database failure on the second batch must leave nothing.
"""

import subprocess
import sys
from unittest import mock

import pytest
from django.db import OperationalError, connection

from accounts.models import Contact, Customer, UsageEvent
from importing.events import UsageEvents
from importing.runner import import_file
from tests.faults_support import ROOT, child_env, postgresql_url, wait_until

ROWS = 60_000  # two batches of 50,000 on PostgreSQL: killed while writing the first


def _write_csv(path, rows: int, customers: int = 20):
    with path.open("w") as out:
        out.write("customer_external_id,user_external_id,event_type,occurred_at\n")
        for i in range(rows):
            c = i % customers
            minute, second = divmod(i // customers, 60)
            out.write(f"F{c:02d},F{c:02d}-u{i % 7},login,2024-01-{1 + minute // 1440:02d}T"
                      f"{minute // 60 % 24:02d}:{minute % 60:02d}:{second:02d}Z\n")  # fmt: skip
    Customer.objects.bulk_create(Customer(external_id=f"F{c:02d}", name=f"Fault {c}") for c in range(customers))


def _import_command(path) -> list[str]:
    return [sys.executable, "manage.py", "import_csv", "usage_events", str(path)]


def _writer_pid() -> int | None:
    """Return the backend pid of another session holding a write lock on the events table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()",
            [UsageEvent._meta.db_table],
        )
        row = cursor.fetchone()
    return row and row[0]


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def test_an_import_killed_half_way_leaves_nothing_and_a_rerun_imports_every_row_once(transactional_db, tmp_path):
    env = child_env(postgresql_url())
    big = tmp_path / "big.csv"
    _write_csv(big, ROWS)
    child = subprocess.Popen(_import_command(big), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        backend = wait_until(_writer_pid, timeout=30, what="the import to start writing events", interval=0.02)
        assert child.poll() is None, "the import finished before it could be killed"
    finally:
        child.kill()
        child.wait(timeout=10)
    # The server rolls back once it notices its client is gone; a running statement ends first
    # (a batch INSERT can take a minute on a busy 2-core machine).
    wait_until(lambda: _backend_gone(backend), timeout=120, what="the killed import's session to end")
    assert UsageEvent.objects.count() == 0
    assert Contact.objects.count() == 0

    done = subprocess.run(_import_command(big), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert UsageEvent.objects.count() == ROWS
    assert UsageEvent.objects.values("contact", "occurred_at", "event_type").distinct().count() == ROWS


def test_an_import_whose_database_fails_half_way_leaves_nothing(db, tmp_path):
    small = tmp_path / "small.csv"
    _write_csv(small, 100)
    handle = UsageEvents.handle
    batches = []

    def handle_then_fail(self, batch, *, write):
        if batches:
            raise OperationalError("server closed the connection unexpectedly")
        batches.append(len(batch))
        return handle(self, batch, write=write)

    with (
        mock.patch.object(UsageEvents, "batch_size", 40),
        mock.patch.object(UsageEvents, "handle", handle_then_fail),
        pytest.raises(OperationalError),
    ):
        import_file("usage_events", small)
    assert batches == [40]
    assert UsageEvent.objects.count() == 0
    assert Contact.objects.count() == 0

    result = import_file("usage_events", small)
    assert (result.committed, result.created) == (True, 100)
    assert UsageEvent.objects.count() == 100
