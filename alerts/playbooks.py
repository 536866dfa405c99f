"""Playbook runs: do a playbook's steps in order for one customer, pausing at each wait.

A run holds the index of its next step; `playbook_advance` does steps until a wait (which
sets `resume_at`) or the end. The hourly task resumes the runs whose wait is over. The
run row is locked while it advances, so a resumed run never does a step twice.
"""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts import reporting_time
from accounts.models import Customer, Task
from alerts import webhooks
from alerts.models import Alert, Playbook, PlaybookRun, PlaybookStep
from metrics.periods import day_start

Kind = PlaybookStep.Kind


def playbook_start(*, playbook: Playbook, customer: Customer, alert: Alert | None = None, user=None, now=None) -> PlaybookRun:
    """Start a run of `playbook` for `customer` and do its first steps."""
    now = now or timezone.now()
    run = PlaybookRun.objects.create(playbook=playbook, customer=customer, alert=alert, started_by=user, started_at=now)
    return playbook_advance(run.pk, now=now)


def _do(step: PlaybookStep, run: PlaybookRun, now: datetime.datetime) -> str:
    """Do one step that is not a wait; return what was done, for the run's log."""
    from alerts import tasks  # the tasks module imports this one

    customer, owner = run.customer, run.customer.owner
    if step.kind == Kind.TASK:
        Task.objects.create(
            customer=customer, assignee=owner, title=(step.title or f"{run.playbook.name}: next step")[:200],
            due_on=reporting_time.today(now) + datetime.timedelta(days=step.days), source=Task.Source.PLAYBOOK,
        )  # fmt: skip
        return "task created"
    if step.kind == Kind.EMAIL:
        if not (owner and owner.email):
            return "no CSM email: skipped"
        body = f"{run.playbook.name} for {customer.name}: {step.title}\n{settings.CSPLATFORM_BASE_URL}/customers/{customer.pk}/"
        send_mail(step.title or run.playbook.name, body, None, [owner.email])
        return f"email sent to {owner.email}"
    if step.kind == Kind.WEBHOOK:
        data = {"playbook": run.playbook.name, "run_id": run.pk, "customer": {"id": customer.pk, "name": customer.name}}
        delivery = webhooks.delivery_create(webhook=step.webhook, event_type="playbook.step", data=data)
        tasks.webhook_deliver.delay_on_commit(delivery.pk)
        return f"webhook {step.webhook.name} queued"
    raise ValueError(f"unknown step kind {step.kind!r}")


@transaction.atomic
def playbook_advance(run_id: int, *, now=None) -> PlaybookRun:
    """Do the run's steps from its next one until a wait or the end (a resumed wait counts as done)."""
    now = now or timezone.now()
    run = PlaybookRun.objects.select_for_update(of=("self",)).select_related("playbook", "customer__owner").get(pk=run_id)
    if run.status in (PlaybookRun.Status.DONE, PlaybookRun.Status.FAILED):
        return run
    if run.status == PlaybookRun.Status.WAITING and run.resume_at > now:
        return run  # not yet
    steps = list(run.playbook.steps.select_related("webhook"))
    run.status, run.resume_at = PlaybookRun.Status.RUNNING, None
    while run.next_step < len(steps):
        step = steps[run.next_step]
        run.next_step += 1
        if step.kind == Kind.WAIT:
            run.status, run.resume_at = PlaybookRun.Status.WAITING, now + datetime.timedelta(days=step.days)
            run.log.append({"position": step.position, "kind": step.kind, "at": now.isoformat(), "what": f"waiting {step.days} days"})
            break
        run.log.append({"position": step.position, "kind": step.kind, "at": now.isoformat(), "what": _do(step, run, now)})
    else:
        run.status = PlaybookRun.Status.DONE
    run.save(update_fields=["status", "resume_at", "next_step", "log"])
    return run


def runs_due(now) -> list[int]:
    """Return the ids of the waiting runs whose wait is over."""
    return list(
        PlaybookRun.objects.filter(status=PlaybookRun.Status.WAITING, resume_at__lte=now).values_list("pk", flat=True)
    )


def runs_for_customer(customer_id: int, limit: int = 10, before: datetime.date | None = None) -> list[PlaybookRun]:
    """Return the customer's latest playbook runs (started before day `before`) with their playbooks' steps."""
    runs = PlaybookRun.objects.filter(customer_id=customer_id)
    if before is not None:
        runs = runs.filter(started_at__lt=day_start(before))
    return list(runs.select_related("playbook").prefetch_related("playbook__steps")[:limit])
