"""Tasks through a real broker and worker (Redis in CI, the embedded broker locally).

Every other test runs tasks eagerly; this one proves the wiring: serialisation of the
arguments, task names, and a worker writing snapshots that the test then reads.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from csplatform.celery import app
from metrics import tasks
from metrics.models import KpiSnapshot
from metrics.selectors import KPI_KEYS
from tests.kpi_example import build_worked_example


@pytest.fixture
def real_worker(transactional_db, settings):
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


def test_snapshot_task_runs_through_the_broker(real_worker):
    build_worked_example()
    # A result backend is not configured: wait on the database instead of the result.
    tasks.snapshot_chunk.delay(["company"], "2024-02-01", "2024-03-01")
    import time

    deadline = time.monotonic() + 30
    while KpiSnapshot.objects.count() < len(KPI_KEYS) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert KpiSnapshot.objects.get(metric="mrr", scope="company").value == 400
    assert KpiSnapshot.objects.count() == len(KPI_KEYS)
