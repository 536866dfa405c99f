"""Alert rules and the alerts they fire, playbooks and their runs, signed webhooks, digests.

An alert is open until the task it created is done; at most one alert per rule and
customer is open at a time (a partial unique constraint, so two runs racing cannot both
fire). Webhook deliveries are logged attempt by attempt.
"""

import secrets
from base64 import b64encode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer, Task


def new_webhook_secret() -> str:
    """Return a Standard Webhooks secret: "whsec_" and 24 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(24)).decode()


class Webhook(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Playbook(models.Model):
    """An ordered set of steps, started by an alert or by hand."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PlaybookStep(models.Model):
    class Kind(models.TextChoices):
        TASK = "task", _("Create a task for the CSM")
        WAIT = "wait", _("Wait N days")
        EMAIL = "email", _("Send an email to the CSM")
        WEBHOOK = "webhook", _("Call a webhook")

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True, help_text="Task title or email subject.")
    days = models.PositiveSmallIntegerField(default=0, help_text="Wait: days; task: due in days.")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["playbook", "position"]
        constraints = [models.UniqueConstraint(fields=["playbook", "position"], name="playbook_step_unique_position")]

    def __str__(self):
        return f"{self.position}. {self.get_kind_display()}"


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        BAND_DROP = "band_drop", _("Health band drops (week over week)")
        SCORE_DROP = "score_drop", _("Health score falls by N points in a week")
        USAGE_DROP = "usage_drop", _("Usage falls by N % week over week")
        RENEWAL = "renewal", _("Renewal within N days")
        DETRACTOR = "detractor", _("A detractor NPS answer in the last week")
        TICKET_OPEN = "ticket_open", _("A ticket open longer than N days")
        CHURN_RISK = "churn_risk", _("Churn probability at or above N %")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    threshold = models.PositiveIntegerField(default=0, help_text="N of the rule (points, %, days); unused otherwise.")
    enabled = models.BooleanField(default=False)
    send_email = models.BooleanField(default=True, help_text="Email the owner CSM when it fires.")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules")
    playbook = models.ForeignKey(Playbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules")
    dry_run_at = models.DateTimeField(null=True, blank=True, help_text="Last dry run; a rule is enabled after one.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Alert(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    fired_on = models.DateField()
    details = models.JSONField(default=dict)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who resolved it in the inbox; blank when it closed because its task was done.",
    )  # fmt: skip
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    snoozed_until = models.DateField(null=True, blank=True, help_text="Out of the inbox until this day.")

    class Meta:
        ordering = ["-fired_on", "-pk"]
        indexes = [models.Index(fields=["closed_at", "customer"], name="alert_open_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer"], condition=Q(closed_at__isnull=True), name="alert_one_open_per_rule_customer"
            ),
        ]

    def __str__(self):
        return f"{self.rule} · {self.customer_id} · {self.fired_on}"


class DeliveryLog(models.Model):
    """An outgoing message and its attempts: the shape of every delivery log (webhooks here, chat in integrations)."""

    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def attempt_logged(self, status: int | None, error: str = "") -> None:
        """Record one attempt: its status code and error ("" when delivered)."""
        now = timezone.now()
        self.attempts += 1
        self.last_attempt_at = now
        self.status_code, self.error = status, error[:500]
        if not error:
            self.delivered_at = now
        self.save(update_fields=["attempts", "last_attempt_at", "status_code", "error", "delivered_at"])


class WebhookDelivery(DeliveryLog):
    """One message to a webhook and its attempts; `message_id` is the webhook-id header (stable across retries)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_type} → {self.webhook} ({self.attempts} attempts)"


class PlaybookRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        WAITING = "waiting", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="runs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    next_step = models.PositiveSmallIntegerField(default=0, help_text="Index of the next step to run.")
    resume_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    log = models.JSONField(default=list, help_text="One entry per step done: position, kind, at, what.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "resume_at"])]

    def __str__(self):
        return f"{self.playbook} for {self.customer_id}"


class DigestSent(models.Model):
    """A weekly digest email claimed for one user and week: the row is written before sending."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="digest_once_per_user_week")]
