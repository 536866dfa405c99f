"""Fire alerts: match enabled rules, open one alert per rule and customer, create the owner's task.

Side effects (email, webhook, playbook) are queued on commit. A second run on the same day
finds the open alerts and fires nothing new; the partial unique constraint catches a run
racing this one. An alert closes once its task is done, and may then fire again.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Customer, Subscription, Task
from alerts import signals, webhooks
from alerts.conditions import matches
from alerts.models import Alert, AlertRule

TASK_DUE_DAYS = 3


class RuleError(Exception):
    """The rule cannot be enabled yet."""


def alerts_close_done(now=None) -> int:
    """Close the open alerts whose task has been completed (or deleted); return how many."""
    now = now or timezone.now()
    open_alerts = Alert.objects.filter(closed_at__isnull=True)
    done = open_alerts.filter(task__completed_at__isnull=False) | open_alerts.filter(task__isnull=True)
    return Alert.objects.filter(pk__in=done.values("pk")).update(closed_at=now)


def _task_title(rule: AlertRule, details: dict) -> str:
    return f"Alert: {rule.name}"[:200]


def alert_fire(*, rule: AlertRule, customer, day: datetime.date, details: dict) -> Alert | None:
    """Open an alert with a task for the owner and queue its side effects; None if one is open already."""
    from alerts import tasks  # the tasks module imports this one

    try:
        with transaction.atomic():
            alert = Alert.objects.create(rule=rule, customer=customer, fired_on=day, details=details)
            alert.task = Task.objects.create(
                customer=customer,
                assignee=customer.owner,
                title=_task_title(rule, details),
                details="\n".join(f"{k}: {v}" for k, v in details.items()),
                due_on=day + datetime.timedelta(days=TASK_DUE_DAYS),
                source=Task.Source.ALERT,
            )
            alert.save(update_fields=["task"])
    except IntegrityError:
        return None  # an open alert for this rule and customer exists: no duplicate
    if rule.send_email and customer.owner_id:
        tasks.alert_email.delay_on_commit(alert.pk)
    if rule.webhook_id and rule.webhook.active:
        delivery = webhooks.delivery_create(webhook=rule.webhook, event_type="alert.fired", data=alert_data(alert))
        tasks.webhook_deliver.delay_on_commit(delivery.pk)
    if rule.playbook_id and rule.playbook.active:
        tasks.playbook_start_task.delay_on_commit(rule.playbook_id, customer.pk, alert.pk)
    transaction.on_commit(lambda: signals.alert_fired.send(sender=Alert, alert=alert))
    return alert


def alert_data(alert: Alert) -> dict:
    """The webhook payload's data for an alert."""
    return {
        "alert_id": alert.pk,
        "rule": {"id": alert.rule_id, "name": alert.rule.name, "kind": alert.rule.kind},
        "customer": {"id": alert.customer_id, "external_id": alert.customer.external_id, "name": alert.customer.name},
        "fired_on": alert.fired_on.isoformat(),
        "details": alert.details,
    }


def rule_evaluate(rule: AlertRule, day: datetime.date) -> list[Alert]:
    """Fire `rule` for the customers paying at `day` that match it and have no open alert for it."""
    paying = Subscription.objects.paying_at(day).mrr_by_customer()
    found = matches(rule.kind, rule.threshold, day, sorted(paying))
    already = set(Alert.objects.filter(rule=rule, closed_at__isnull=True).values_list("customer_id", flat=True))
    customers = Customer.objects.select_related("owner").in_bulk([cid for cid in found if cid not in already])
    fired = []
    for cid, customer in sorted(customers.items()):  # only new alerts: a few per day
        alert = alert_fire(rule=rule, customer=customer, day=day, details=found[cid])
        if alert:
            fired.append(alert)
    return fired


def alerts_evaluate(day: datetime.date) -> int:
    """Close finished alerts, then evaluate every enabled rule at `day`; return the alerts fired."""
    alerts_close_done()
    rules = AlertRule.objects.filter(enabled=True).select_related("webhook", "playbook")
    return sum(len(rule_evaluate(rule, day)) for rule in rules)


def rule_enable(rule: AlertRule, enabled: bool = True) -> AlertRule:
    """Enable a dry-run rule (or disable any rule)."""
    if enabled and rule.dry_run_at is None:
        raise RuleError("dry-run the rule before enabling it")
    rule.enabled = enabled
    rule.save(update_fields=["enabled"])
    return rule
