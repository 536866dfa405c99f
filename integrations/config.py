"""Each connection's settings: the Integrations page's value, else the environment variable.

`FIELDS` lists every setting once: its connection, name, environment variable, whether
it is secret (never shown back, only whether it is set and its last four characters)
and its default. `value(kind, name)` is the one place that resolves a setting.
"""

import os
import secrets as random_secrets
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from integrations.models import Connection, Kind


@dataclass(frozen=True)
class Field:
    kind: str
    name: str
    label: str
    secret: bool = False
    default: str = ""
    help: str = ""

    @property
    def env(self) -> str:
        return f"INTEGRATION_{self.kind}_{self.name}".upper()


FIELDS = [
    Field(Kind.SEGMENT, "write_key", _("Write key"), secret=True, help=_("Sent by the source as HTTP basic auth user.")),
    Field(
        Kind.SEGMENT, "customer_trait", _("Customer trait"), default="company_id",
        help=_("The trait or property naming the customer when a call has no groupId."),
    ),
    Field(Kind.STRIPE, "api_key", _("Secret API key"), secret=True, help=_("For stripe_sync (restricted key, read only).")),
    Field(Kind.STRIPE, "webhook_secret", _("Webhook signing secret"), secret=True, help=_("whsec_… of the endpoint.")),
    Field(Kind.STRIPE, "api_base", _("API base"), default="", help=_("Blank for Stripe itself.")),
    Field(Kind.ZENDESK, "subdomain", _("Subdomain"), help=_("yourcompany in yourcompany.zendesk.com.")),
    Field(Kind.ZENDESK, "email", _("Agent email"), help=_("The API token's user.")),
    Field(Kind.ZENDESK, "api_token", _("API token"), secret=True),
    Field(Kind.ZENDESK, "webhook_secret", _("Webhook signing secret"), secret=True),
    Field(Kind.ZENDESK, "url", _("Base URL"), help=_("Blank: https://<subdomain>.zendesk.com.")),
    Field(Kind.SLACK, "bot_token", _("Bot token"), secret=True, help=_("xoxb-…, for channels given by id.")),
    Field(Kind.SLACK, "webhook_url", _("Team webhook URL"), secret=True, help=_("Used when no channel is set up.")),
    Field(Kind.SLACK, "api_url", _("Web API base"), default="", help=_("Blank for Slack itself.")),
    Field(Kind.TEAMS, "webhook_url", _("Team webhook URL"), secret=True, help=_("Used when no channel is set up.")),
    Field(Kind.OIDC, "issuer", _("Issuer URL"), help=_("Endpoints are read from its discovery document.")),
    Field(Kind.OIDC, "client_id", _("Client id")),
    Field(Kind.OIDC, "client_secret", _("Client secret"), secret=True),
    Field(Kind.OIDC, "groups_claim", _("Groups claim"), default="groups"),
    Field(
        Kind.OIDC, "role_map", _("Groups to roles"), default="",
        help=_("e.g. cs-admins=admin,cs-leads=manager,cs=csm; a user in none of them may not log in."),
    ),
    Field(Kind.OIDC, "sso_only", _("SSO only"), default="", help=_("1: password login only for superusers.")),
]
BY_KEY = {(f.kind, f.name): f for f in FIELDS}


def fields_of(kind: str) -> list[Field]:
    return [f for f in FIELDS if f.kind == kind]


def _connection(kind: str) -> Connection | None:
    return Connection.objects.filter(kind=kind).first()


def value(kind: str, name: str, connection: Connection | None = None) -> str:
    """The setting `name` of connection `kind`: set in the UI, else its environment variable, else its default."""
    field = BY_KEY[(kind, name)]
    connection = connection if connection is not None else _connection(kind)
    if connection is not None:
        stored = (connection.secrets if field.secret else connection.options).get(name, "")
        if stored:
            return stored
    return os.environ.get(field.env, "") or field.default


def values(kind: str) -> dict[str, str]:
    connection = _connection(kind)
    return {f.name: value(kind, f.name, connection) for f in fields_of(kind)}


def enabled(kind: str) -> bool:
    connection = _connection(kind)
    return connection is None or connection.enabled


def store(kind: str, data: dict[str, str], *, enabled: bool = True) -> Connection:
    """Save the UI's settings of `kind`; a blank secret keeps the stored one (it is never shown back)."""
    connection, _ = Connection.objects.get_or_create(kind=kind)
    for field in fields_of(kind):
        text = (data.get(field.name) or "").strip()
        if field.secret:
            if text:
                connection.secrets[field.name] = text
        else:
            connection.options[field.name] = text
    connection.enabled = enabled
    connection.save()
    return connection


def generate_secret(kind: str, name: str, prefix: str = "") -> str:
    """Make and store a new random secret (e.g. a Segment write key); the caller shows it once."""
    new = prefix + random_secrets.token_urlsafe(24)
    connection, _ = Connection.objects.get_or_create(kind=kind)
    connection.secrets[name] = new
    connection.save()
    return new


def masked(secret: str) -> str:
    """What the page shows of a stored secret."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else ("•" * 4 if secret else "")
