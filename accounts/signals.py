"""What accounts tells the apps above it.

`ticket_resolved` (with `ticket`): a ticket written through the REST API or a support
integration (Zendesk) became resolved; `announce_if_resolved` decides when.
surveys connects the transactional CSAT invitation to it in `SurveysConfig.ready()`.
Imported tickets do not send it: a file of past tickets must not email their contacts.

`data_changed` (with `kind`, an import kind's name such as "subscriptions", and `objs`,
the rows as they were before and after; `announce_change`): records were written or deleted outside an
import, in Django admin or a page. metrics marks the snapshots they touch stale, exactly
as after an import (imports and the REST API announce `importing.signals.import_finished`,
which carries the same `changed_row` values). `announce_change` sends it once the
transaction commits. A change to the CSMs assigned to customers (a many-to-many, no row of
theirs changes) sends it with no rows and `moved`, the customers that moved between CSMs'
scopes (`assignments_changed`, connected to `m2m_changed` in `AccountsConfig.ready()`).
"""

from django.db import models, transaction
from django.dispatch import Signal

ticket_resolved = Signal()  # receivers get `ticket`
data_changed = Signal()  # receivers get `kind`, `objs` and, for changed CSM assignments, `moved`


# The import kind of each model whose rows KPIs read (the names metrics.invalidation knows).
KIND_OF_MODEL = {
    "customer": "customers", "subscription": "subscriptions", "usageevent": "usage_events", "ticket": "tickets",
    "costentry": "costs", "lead": "leads", "surveyresponse": "survey_responses",
}  # fmt: skip


# What puts a customer into a segment's or a CSM's scope: a change moves its figures between scopes.
SCOPE_FIELDS = ("segment", "owner_id")


def changed_row(obj) -> dict:
    """The customer (a Customer is its own) and every date and instant of a model row (a customer: its scope too)."""
    is_customer = obj._meta.model_name == "customer"
    values = {"customer_id": obj.pk if is_customer else getattr(obj, "customer_id", None)}
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.DateField) or (is_customer and f.attname in SCOPE_FIELDS):
            values[f.attname] = getattr(obj, f.attname)
    return values


def changed_rows(objs) -> list[dict]:
    return [changed_row(obj) for obj in objs]


def announce_change(*objs) -> None:
    """Send `data_changed` for these rows (before and after a change) once the current transaction commits."""
    by_kind: dict[str, list] = {}
    for obj in objs:
        kind = obj is not None and KIND_OF_MODEL.get(obj._meta.model_name)
        if kind:
            by_kind.setdefault(kind, []).append(obj)
    for kind, rows in by_kind.items():
        transaction.on_commit(lambda kind=kind, rows=rows: data_changed.send(sender=kind, kind=kind, objs=rows))


def announce_if_resolved(was_resolved, ticket) -> None:
    """Send `ticket_resolved` if this write resolved `ticket` (it had no `resolved_at` before: `was_resolved`)."""
    if was_resolved is None and ticket.resolved_at is not None:
        ticket_resolved.send(sender=type(ticket), ticket=ticket)


def assignments_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """`m2m_changed` of `Customer.assigned_users`: the customers whose assigned CSMs changed moved
    between CSMs' scopes; send `data_changed` with them as `moved` once the transaction commits."""
    if action in ("post_add", "post_remove"):  # pk_set: what was added or removed (empty: nothing changed)
        moved = set(pk_set) if reverse else ({instance.pk} if pk_set else set())
    elif action == "pre_clear":  # read before the rows go
        moved = set(instance.assigned_customers.values_list("pk", flat=True)) if reverse else (
            {instance.pk} if instance.assigned_users.exists() else set()
        )  # fmt: skip
    else:
        return
    if moved:
        transaction.on_commit(
            lambda: data_changed.send(sender="customers", kind="customers", objs=[], moved=frozenset(moved))
        )
