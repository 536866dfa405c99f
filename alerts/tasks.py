"""Celery tasks of alerts, playbooks, webhooks and the weekly digest. Arguments are ids and ISO dates."""

import datetime
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import reporting_time
from accounts.models import Customer
from alerts import digest, playbooks, services, webhooks
from alerts.models import Alert, Playbook, WebhookDelivery

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError,)
MAIL_ERRORS = (smtplib.SMTPException, OSError)  # the mail server down or refusing: retried


def one_line(text: str) -> str:
    """Text for a mail header: line breaks (from a name, say) would make Django refuse the whole message."""
    return " ".join(text.split())


def _date(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else reporting_time.today()  # beat: today


@shared_task(name="alerts.evaluate_daily", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def evaluate_daily(day: str | None = None) -> int:
    """Evaluate every enabled rule at `day` (beat: today); return the alerts fired."""
    return services.alerts_evaluate(_date(day))


@shared_task(name="alerts.alert_email", autoretry_for=TRANSIENT + MAIL_ERRORS, retry_backoff=True, max_retries=5)
def alert_email(alert_id: int) -> bool:
    """Email the owner CSM about an alert, once: the row is claimed before sending."""
    claimed = Alert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    alert = Alert.objects.select_related("rule", "customer__owner").get(pk=alert_id)
    owner = alert.customer.owner
    if not (owner and owner.email):
        log.info("alert %s: the customer has no CSM with an email", alert_id)
        return False
    body = render_to_string("alerts/email/alert.txt", {"alert": alert, "base_url": settings.CSPLATFORM_BASE_URL})
    subject = one_line(f"[csplatform] {alert.rule.name}: {alert.customer.name}")
    try:
        send_mail(subject, body, None, [owner.email])
    except MAIL_ERRORS:
        Alert.objects.filter(pk=alert_id).update(emailed_at=None)  # not sent: the retry claims it again
        raise
    return True


@shared_task(
    name="alerts.webhook_deliver",
    autoretry_for=(webhooks.WebhookError,),
    retry_backoff=30,  # 30 s, 60 s, 120 s, … with jitter, at most an hour apart
    retry_backoff_max=3600,
    max_retries=8,
)
def webhook_deliver(delivery_id: int) -> int | None:
    """POST one logged webhook message; a failure raises and Celery retries with backoff."""
    try:
        delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    except WebhookDelivery.DoesNotExist:
        log.warning("webhook delivery %s is gone", delivery_id)
        return None
    if delivery.delivered_at:
        return delivery.status_code  # delivered by an earlier attempt
    return webhooks.delivery_attempt(delivery)


@shared_task(name="alerts.playbook_start", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def playbook_start_task(playbook_id: int, customer_id: int, alert_id: int | None = None) -> int | None:
    """Start a playbook run for a customer (from an alert)."""
    try:
        playbook, customer = Playbook.objects.get(pk=playbook_id), Customer.objects.get(pk=customer_id)
    except (Playbook.DoesNotExist, Customer.DoesNotExist):
        log.warning("playbook %s or customer %s is gone", playbook_id, customer_id)
        return None
    alert = Alert.objects.filter(pk=alert_id).first() if alert_id else None
    return playbooks.playbook_start(playbook=playbook, customer=customer, alert=alert).pk


@shared_task(name="alerts.playbooks_due", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def playbooks_due() -> int:
    """Resume every playbook run whose wait is over."""
    due = playbooks.runs_due(timezone.now())
    for run_id in due:
        playbooks.playbook_advance(run_id)
    return len(due)


@shared_task(name="alerts.digest_weekly", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def digest_weekly(day: str | None = None) -> int:
    """Queue one digest per CSM for the week starting at `day` (beat: Monday, today)."""
    week_start = _date(day)
    ids = list(digest.digest_recipients().values_list("pk", flat=True))
    for user_id in ids:
        digest_send.delay(user_id, week_start.isoformat())
    return len(ids)


@shared_task(name="alerts.digest_send", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def digest_send(user_id: int, week_start: str) -> bool:
    """Send one CSM's weekly digest, at most once per week."""
    try:
        user = get_user_model().objects.get(pk=user_id)
    except get_user_model().DoesNotExist:
        log.warning("digest: user %s is gone", user_id)
        return False
    return digest.digest_send(user=user, week_start=_date(week_start))
