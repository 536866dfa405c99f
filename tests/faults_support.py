"""Helpers for tests/test_faults_*.py: child processes against the test database, and the children.

A fault test starts a real process (a task runner, `manage.py import_csv`, a Celery
worker) on the test database, kills it with SIGKILL at a chosen moment, and checks what
is left. That needs a database another process can see: PostgreSQL under
`transactional_db` (pytest-django's SQLite test database lives in memory), so
`postgresql_url` skips, naming the missing service, everywhere else.

Run as `python -m tests.faults_support ROLE …`, this module is the child itself:

* `snapshots LABEL… --start D --end D`: `metrics.snapshot_chunk` as a worker would run it,
  printing "wrote LABEL" after each scope;
* `emails ID… [--hang-after-claim ID]`: one `surveys.invitation_send` per id, printing
  "sent ID"; with --hang-after-claim it stops dead between that invitation's claim and
  its send;
* `enqueue LABEL… --start D --end D`: put one snapshot_chunk message per label on the broker.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAUSE = 0.15  # seconds between units of work in a child, so a kill lands mid-run


def postgresql_url() -> str:
    """Return the URL of the PostgreSQL test database, or skip the test naming what is missing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL=postgresql://…): a killed child process must share "
            f"the test database, and the {connection.vendor} test database is private to this process"
        )
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(database_url: str, **extra: str) -> dict:
    """Return the environment of a child process working on `database_url` with the test settings."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "csplatform.test_settings"}
    env.update(extra)
    return env


def start_child(args: list[str], env: dict) -> subprocess.Popen:
    """Start `python -m tests.faults_support ARGS`, its stdout a line-buffered pipe."""
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "tests.faults_support", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(child: subprocess.Popen, lines: int, timeout: float = 30) -> list[str]:
    """Read `lines` lines from the child, then SIGKILL it; return what it printed."""
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < lines:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(f"the child ended before it was killed: {child.stderr.read()[-2000:]}")
        seen.append(line.strip())
        assert time.monotonic() < deadline, "the child is too slow to be killed mid-run"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    child.stdout.close()
    child.stderr.close()
    return seen


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- The children ------------------------------------------------------------------------


def _say(text: str) -> None:
    print(text, flush=True)


def _child_snapshots(labels, start, end):
    from metrics import snapshots, tasks

    write = snapshots.snapshot_write

    def write_and_report(scope, period, **kwargs):
        written = write(scope, period, **kwargs)
        _say(f"wrote {scope.label}")
        time.sleep(PAUSE)
        return written

    snapshots.snapshot_write = write_and_report
    tasks.snapshot_chunk.apply(args=[labels, start, end]).get()


def _child_emails(ids, hang_after_claim):
    from django.conf import settings

    from surveys import emails, tasks

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = os.environ["FAULTS_MAIL_DIR"]
    message = emails.invitation_message

    def message_or_hang(invitation, **kwargs):
        # Called after the claim, before the send: the window a kill must not lose an email in.
        if invitation.pk == hang_after_claim:
            _say(f"claimed {invitation.pk}")
            time.sleep(60)
        return message(invitation, **kwargs)

    emails.invitation_message = message_or_hang
    for invitation_id in ids:
        tasks.invitation_send.apply(args=[invitation_id]).get()
        _say(f"sent {invitation_id}")
        time.sleep(PAUSE)


def _child_enqueue(labels, start, end):
    from csplatform.celery import app
    from metrics import tasks

    app.conf.task_always_eager = False  # the test settings run tasks in-process; this child must queue
    for label in labels:
        tasks.snapshot_chunk.delay([label], start, end)
    _say(f"queued {len(labels)}")


def main(argv: list[str]) -> None:
    import argparse

    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["snapshots", "emails", "enqueue"])
    parser.add_argument("items", nargs="+")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--hang-after-claim", type=int)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    django.setup()
    if args.role == "snapshots":
        _child_snapshots(args.items, args.start, args.end)
    elif args.role == "emails":
        _child_emails([int(i) for i in args.items], args.hang_after_claim)
    else:
        _child_enqueue(args.items, args.start, args.end)


if __name__ == "__main__":
    main(sys.argv[1:])
