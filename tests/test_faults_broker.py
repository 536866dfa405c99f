"""Faults: the broker restarted while tasks wait in its queue; they run once it is back.

The shared Redis must not be restarted, so the test runs its own `redis-server` on a
free port with an append-only file (what a production Redis broker needs for queued
messages to survive a restart). Tasks are queued with no worker, the server is shut down
and started again on the same directory, then a real Celery worker runs them.
"""

import shutil
import socket
import subprocess
import sys

import pytest

from metrics.models import KpiSnapshot
from metrics.selectors import KPI_KEYS
from tests.faults_support import ROOT, child_env, postgresql_url, start_child, wait_until
from tests.kpi_example import build_worked_example

LABELS = ["company", "segment:SMB", "segment:Enterprise"]
START, END = "2024-02-01", "2024-03-01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server on 127.0.0.1 that keeps its data in an append-only file in `directory`."""

    def __init__(self, directory):
        self.directory, self.port, self.process = directory, _free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "yes", "--dir", str(self.directory)],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def queued(self) -> int:
        """Messages waiting in all of the project's queues (csplatform.celery routes by kind of work)."""
        import redis

        from csplatform.celery import QUEUES

        client = redis.Redis(port=self.port)
        return sum(client.llen(name) for name in QUEUES)

    def stop(self):
        """Shut down cleanly (SHUTDOWN flushes the append-only file)."""
        import redis

        try:
            redis.Redis(port=self.port).shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server on PATH (apt-get install redis-server) to restart a private broker")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def test_tasks_queued_before_a_broker_restart_run_once_it_is_back(transactional_db, redis_server):
    env = child_env(postgresql_url(), CELERY_BROKER_URL=redis_server.url)
    build_worked_example()
    enqueue = start_child(["enqueue", *LABELS, "--start", START, "--end", END], env)
    assert enqueue.wait(timeout=60) == 0, enqueue.stderr.read()
    assert redis_server.queued() == len(LABELS)

    redis_server.stop()
    redis_server.start()
    assert redis_server.queued() == len(LABELS), "queued messages were lost in the restart"

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        expected = len(LABELS) * len(KPI_KEYS)
        wait_until(lambda: KpiSnapshot.objects.count() >= expected, timeout=45, what="the worker to run the tasks")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert sorted(set(KpiSnapshot.objects.values_list("scope", flat=True))) == sorted(LABELS)
    assert KpiSnapshot.objects.count() == expected
    assert redis_server.queued() == 0
