"""An optional read replica for reports: `DATABASE_REPLICA_URL` adds the database alias "replica".

Report and KPI reads that may lag the primary by a moment run inside `replica_reads()` (the
team report, its drill-down and export, the KPI API); every other read and every write goes
to the primary ("default"). Without the setting the router changes nothing. The replica is
a PostgreSQL streaming replica of the primary: it is never migrated and never written.
In tests it is a mirror of the test database (`TEST: {"MIRROR": "default"}`).
"""

import contextlib
import contextvars
import functools

from django.conf import settings

REPLICA = "replica"
_reads = contextvars.ContextVar("csplatform_replica_reads", default=False)


@contextlib.contextmanager
def replica_reads():
    """Send the reads made inside this block to the replica (when one is configured)."""
    token = _reads.set(True)
    try:
        yield
    finally:
        _reads.reset(token)


def reads_from_replica(view):
    """Decorate a view (or any function) whose reads may go to the replica."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


def replica_reads_active() -> bool:
    return _reads.get()


class ReplicaRouter:
    """Reads inside `replica_reads()` go to the replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if _reads.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
