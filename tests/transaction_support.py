"""Run a block of test writes inside a transaction that is always rolled back."""

from contextlib import contextmanager

from django.db import transaction


class Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Each hypothesis example starts from the same rows: its writes are undone on the way out."""
    try:
        with transaction.atomic():
            yield
            raise Rollback
    except Rollback:
        pass
