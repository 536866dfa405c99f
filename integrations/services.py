"""What the Integrations page shows and does: each connection's status, and replaying a refused message."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from integrations import config, segment, stripe, zendesk
from integrations.models import ChatChannel, ChatDelivery, Connection, InboundEvent, Kind

# What a connection needs before it can work.
REQUIRED = {
    Kind.SEGMENT: ("write_key",),
    Kind.STRIPE: ("webhook_secret",),
    Kind.ZENDESK: ("subdomain", "email", "api_token", "webhook_secret"),
    Kind.SLACK: (),
    Kind.TEAMS: (),
    Kind.OIDC: ("issuer", "client_id", "client_secret"),
}
REFUSED_SHOWN = 10


@dataclass
class Setting:
    label: str
    shown: str
    source: str  # "page", "environment", "default" or ""


@dataclass
class Status:
    kind: str
    label: str
    enabled: bool
    missing: list[str]
    settings: list[Setting]
    last_accepted: datetime.datetime | None = None
    accepted_day: int = 0
    refused_day: int = 0
    refused: list[InboundEvent] = field(default_factory=list)

    @property
    def state(self) -> str:
        if not self.enabled:
            return "off"
        return "incomplete" if self.missing else "ready"


def _settings(kind, connection) -> list[Setting]:
    rows = []
    for f in config.fields_of(kind):
        stored = ((connection.secrets if f.secret else connection.options) if connection else {}).get(f.name, "")
        value = config.value(kind, f.name, connection)
        if stored:
            source = "page"
        elif value and value != f.default:
            source = "environment"
        elif value:
            source = "default"
        else:
            source = ""
        rows.append(Setting(str(f.label), config.masked(value) if f.secret else value, source))
    return rows


def statuses(now=None) -> list[Status]:
    now = now or timezone.now()
    connections = {c.kind: c for c in Connection.objects.all()}
    day = now - datetime.timedelta(days=1)
    counts = {
        row["kind"]: row
        for row in InboundEvent.objects.values("kind").annotate(
            last=Max("received_at", filter=Q(status=InboundEvent.Status.ACCEPTED)),
            accepted=Count("pk", filter=Q(status=InboundEvent.Status.ACCEPTED, received_at__gte=day)),
            refused=Count("pk", filter=Q(status=InboundEvent.Status.REFUSED, received_at__gte=day)),
        )
    }
    result = []
    for kind, label in Kind.choices:
        connection = connections.get(kind)
        missing = [str(config.BY_KEY[(kind, n)].label) for n in REQUIRED[kind] if not config.value(kind, n, connection)]
        if kind in (Kind.SLACK, Kind.TEAMS) and not _chat_reachable(kind, connection):
            missing.append(gettext("a channel or the team webhook URL"))
        row = counts.get(kind, {})
        result.append(Status(
            kind=kind, label=label, enabled=connection is None or connection.enabled, missing=missing,
            settings=_settings(kind, connection), last_accepted=row.get("last"),
            accepted_day=row.get("accepted", 0), refused_day=row.get("refused", 0),
            refused=list(InboundEvent.objects.filter(kind=kind, status=InboundEvent.Status.REFUSED)[:REFUSED_SHOWN]),
        ))  # fmt: skip
    return result


def _chat_reachable(kind, connection) -> bool:
    services = [ChatChannel.Service.TEAMS] if kind == Kind.TEAMS else [ChatChannel.Service.SLACK_WEBHOOK, ChatChannel.Service.SLACK_BOT]
    return bool(config.value(kind, "webhook_url", connection)) or ChatChannel.objects.filter(active=True, service__in=services).exists()


def recent_chat_deliveries(limit=10):
    return list(ChatDelivery.objects.select_related("channel")[:limit])


class ReplayError(Exception):
    """The message cannot be replayed (or failed again); the message says why."""


def replay(event: InboundEvent) -> str:
    """Apply a refused message again (after the cause was fixed); mark it replayed when it now succeeds."""
    if event.status != InboundEvent.Status.REFUSED or event.payload is None:
        raise ReplayError("only refused messages with a readable payload can be replayed")
    if event.kind == Kind.SEGMENT:
        result = segment.ingest([event.payload], log=False)
        if result.refused:
            raise ReplayError(result.refused[0][1])
        outcome = "stored"
    elif event.kind == Kind.STRIPE:
        try:
            outcome = stripe.event_handle(event.payload)
        except (stripe.Refused, KeyError, TypeError, ValueError) as exc:
            raise ReplayError(str(exc)) from None
    elif event.kind == Kind.ZENDESK:
        answer = zendesk.receive(event.payload, log=False)
        if not answer["success"]:
            raise ReplayError(answer["message"])
        outcome = answer["result"]
    else:
        raise ReplayError(f"messages of {event.kind} are not replayed")
    event.status = InboundEvent.Status.REPLAYED
    event.save(update_fields=["status"])
    return outcome


def sso_callback_url(request) -> str:
    """The redirect URI to register at the OpenID Connect provider."""
    return request.build_absolute_uri(reverse("oidc_authentication_callback"))
