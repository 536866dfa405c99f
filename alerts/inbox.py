"""The alerts inbox: which open alerts a user works on, and what they do with one.

An alert is in a user's inbox while it is open (not closed) and belongs to a customer the user may
see (a CSM: their portfolio; managers and admins: every customer). Snoozing hides it until a day;
acknowledging says someone is on it; resolving completes the task it created and closes it. Every
state change is one row update, safe to repeat: resolving a closed alert changes nothing.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import policy
from accounts.models import Subscription, Task
from alerts.models import Alert
from churn.selectors import risks_for_customers

SHOWS = ("open", "snoozed", "acknowledged", "all")


class InboxError(Exception):
    """The action does not apply to this alert (closed, or a day that is not in the future)."""


def alerts_for_user(user):
    """Open alerts of the customers `user` may see."""
    return Alert.objects.filter(closed_at__isnull=True, customer__in=policy.visible_customers(user).values("pk"))


def inbox_count(user, day: datetime.date) -> int:
    """How many open alerts wait for `user` on `day`: not snoozed past it, not yet acknowledged."""
    return (
        alerts_for_user(user)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=day), acknowledged_at__isnull=True)
        .count()
    )


@dataclass
class InboxRow:
    alert: Alert
    age_days: int
    mrr: Decimal  # the customer's paying MRR today: the value at stake
    churn_probability: float | None  # by the published churn model, if any

    @property
    def mrr_at_risk(self) -> Decimal | None:
        return None if self.churn_probability is None else self.mrr * Decimal(str(self.churn_probability))


def inbox_rows(user, day: datetime.date, show: str = "open", rule_kind: str = "") -> list[InboxRow]:
    """The alerts of the inbox view `show` ("open": waiting, not snoozed; "snoozed"; "acknowledged"; "all"),
    with age and value at risk; a fixed number of queries."""
    alerts = alerts_for_user(user).select_related("rule", "customer", "customer__owner", "task", "acknowledged_by")
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=day)
    if show == "open":
        alerts = alerts.filter(awake)
    elif show == "snoozed":
        alerts = alerts.exclude(awake)
    elif show == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    if rule_kind:
        alerts = alerts.filter(rule__kind=rule_kind)
    # Unacknowledged first (NULLs first on every database), then the newest.
    alerts = list(alerts.order_by(F("acknowledged_at").asc(nulls_first=True), "-fired_on", "-pk")[:500])
    ids = {a.customer_id for a in alerts}
    mrr = Subscription.objects.paying_at(day).filter(customer_id__in=ids).mrr_by_customer() if ids else {}
    risks = risks_for_customers(ids, day) if ids else {}
    return [
        InboxRow(a, (day - a.fired_on).days, mrr.get(a.customer_id, Decimal(0)),
                 risks[a.customer_id].probability if a.customer_id in risks else None)
        for a in alerts
    ]  # fmt: skip


def alert_for_user(user, pk) -> Alert:
    """An open or closed alert of a customer `user` may see; Alert.DoesNotExist otherwise."""
    visible = policy.visible_customers(user).values("pk")
    return Alert.objects.select_related("rule", "customer", "task").get(pk=pk, customer__in=visible)


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """Say someone is on it (the first acknowledgement counts)."""
    if alert.closed_at is not None:
        raise InboxError("the alert is closed")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


def alert_snooze(*, alert: Alert, until: datetime.date, today: datetime.date) -> Alert:
    """Hide the alert from the inbox until `until` (a day after `today`); its task's due day moves along."""
    if alert.closed_at is not None:
        raise InboxError("the alert is closed")
    if until <= today:
        raise InboxError("snooze until a day after today")
    with transaction.atomic():
        alert.snoozed_until = until
        alert.save(update_fields=["snoozed_until"])
        if alert.task_id and alert.task.completed_at is None and (alert.task.due_on is None or alert.task.due_on < until):
            Task.objects.filter(pk=alert.task_id).update(due_on=until)
    return alert


def alert_resolve(*, alert: Alert, user, note: str = "") -> Alert:
    """Close the alert and complete its task (with `note` added to the task's details)."""
    if alert.closed_at is not None:
        return alert
    now = timezone.now()
    with transaction.atomic():
        if alert.task_id and alert.task.completed_at is None:
            task = alert.task
            task.completed_at = now
            if note:
                task.details = (task.details + "\n\n" if task.details else "") + note
            task.save(update_fields=["completed_at", "details"])
        updated = Alert.objects.filter(pk=alert.pk, closed_at__isnull=True).update(closed_at=now, closed_by=user)
    if updated:
        alert.closed_at, alert.closed_by = now, user
    return alert


def alerts_for_customers(ids) -> dict[int, int]:
    """{customer: open alerts} of the customers in `ids` (for renewal and portfolio pages)."""
    counts: dict[int, int] = {}
    for customer_id in Alert.objects.filter(closed_at__isnull=True, customer_id__in=list(ids)).values_list("customer_id", flat=True):
        counts[customer_id] = counts.get(customer_id, 0) + 1
    return counts
