"""The connections to other systems, what they sent us, and what we sent to chat.

`Connection` holds one system's settings set in the UI (`options`) and its secrets
(`secrets`, never shown back); environment variables fill what the UI leaves blank
(`integrations.config`). `InboundEvent` logs every message a system sent: accepted ones
with their counts, refused ones with the error and the payload, kept for replay.
`ChatChannel` routes notifications to Slack or Teams, `ChatDelivery` logs each one
(the shape of alerts' webhook delivery log).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.models import DeliveryLog


class Kind(models.TextChoices):
    SEGMENT = "segment", _("Product events (Segment spec)")
    STRIPE = "stripe", _("Billing (Stripe)")
    ZENDESK = "zendesk", _("Support (Zendesk)")
    SLACK = "slack", _("Chat (Slack)")
    TEAMS = "teams", _("Chat (Microsoft Teams)")
    OIDC = "oidc", _("Single sign-on (OpenID Connect)")


class Connection(models.Model):
    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True, help_text="Settings that are not secret.")
    secrets = models.JSONField(default=dict, blank=True, help_text="Keys and tokens; never shown back.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()


class InboundEvent(models.Model):
    """One message received from a system (a webhook, a Segment call, a synced record)."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFUSED = "refused", "Refused"
        REPLAYED = "replayed", "Replayed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    event_type = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=200, blank=True, help_text="The sender's id of the message.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    error = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="Kept when refused, for replay.")
    raw = models.TextField(blank=True, help_text="The body as received, when it was not JSON.")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["kind", "status", "received_at"])]

    def __str__(self):
        return f"{self.kind} {self.event_type} {self.status}"


class ChatChannel(models.Model):
    """Where chat notifications go: a team channel, or one user's (alerts of their customers, their digest)."""

    class Service(models.TextChoices):
        SLACK_WEBHOOK = "slack_webhook", "Slack incoming webhook"
        SLACK_BOT = "slack_bot", "Slack bot (channel id or name)"
        TEAMS = "teams", "Microsoft Teams incoming webhook"

    name = models.CharField(max_length=100)
    service = models.CharField(max_length=20, choices=Service.choices)
    target = models.CharField(
        max_length=500, help_text="The incoming webhook URL, or for a Slack bot the channel or user id."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_channels",
        help_text="Blank: a team channel (every alert, detractor and digest summary).",
    )
    alerts = models.BooleanField(default=True)
    digests = models.BooleanField(default=True)
    detractors = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChatDelivery(DeliveryLog):
    """One notification to a chat channel and its attempts (the delivery log shape of alerts' webhooks)."""

    channel = models.ForeignKey(
        ChatChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries",
        help_text="Blank: the team webhook set by environment variable or on the Integrations page.",
    )  # fmt: skip
    service = models.CharField(max_length=20, choices=ChatChannel.Service.choices)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "chat deliveries"

    def __str__(self):
        return f"{self.event_type} → {self.channel or self.get_service_display()} ({self.attempts} attempts)"


class ObjectVersion(models.Model):
    """The newest version of a source's object applied so far (a Stripe event's time, a ticket's updated_at).

    A webhook older than the stored version is acknowledged and not applied, so webhooks that
    arrive out of order or twice leave the newest state in place.
    """

    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.CharField(max_length=200)
    version_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="object_version_unique")]

    def __str__(self):
        return f"{self.kind} {self.object_id} @ {self.version_at}"


class CustomerLink(models.Model):
    """Which of our customers a source's own customer id stands for (a Stripe `cus_…` with metadata.csplatform_id)."""

    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_id = models.CharField(max_length=200)
    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "source_id"], name="customer_link_unique")]

    def __str__(self):
        return f"{self.kind} {self.source_id} → {self.customer_id}"
