"""Bulk writes of the import that keep the audit history (django-simple-history) of tracked models.

Customers and subscriptions carry `HistoricalRecords`; a plain `bulk_create`/`bulk_update`
would bypass it. Every imported row gets one history entry whose change reason names
the file ("import customers.csv"); the user is the request's (admin upload) or none
(command line, Celery). Untracked models (tickets, usage events, …) are written as before.
"""

from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

BATCH = 500


def is_tracked(model) -> bool:
    """Return whether `model` keeps a simple-history audit trail."""
    return hasattr(model._meta, "simple_history_manager_attribute")


def bulk_create(model, objs: list, *, reason: str) -> None:
    """Insert `objs`, and their "created" history entries when the model is tracked."""
    if is_tracked(model):
        bulk_create_with_history(objs, model, batch_size=BATCH, default_change_reason=reason)
    else:
        model.objects.bulk_create(objs, batch_size=BATCH)


def bulk_update(model, objs: list, fields: list[str], *, reason: str) -> None:
    """Update `fields` of `objs`, and add "changed" history entries when the model is tracked.

    The history copies the stored rows after the update, not `objs`: an imported object
    holds only the columns of the file, the history must hold every field.
    """
    model.objects.bulk_update(objs, fields, batch_size=BATCH)
    if not is_tracked(model):
        return
    history = get_history_manager_for_model(model)
    for start in range(0, len(objs), BATCH):
        pks = [obj.pk for obj in objs[start : start + BATCH]]
        stored = list(model._default_manager.filter(pk__in=pks).order_by("pk"))
        history.bulk_history_create(stored, batch_size=BATCH, update=True, default_change_reason=reason)
