"""Support tickets from Zendesk: a webhook for ticket created/updated/solved, and `zendesk_sync` (incremental export).

Both read the ticket through the Zendesk API with `zenpy` (the webhook names the ticket,
the API has its current state), so a late or repeated webhook applies the newest state
(`integrations.versions`, by the ticket's `updated_at`). A ticket becomes our ticket
with the same external id (its Zendesk id), checked by the import's rules:

- its customer is the requester's organisation: the organisation's `external_id`
  (set it to our customer's), else its name when exactly one customer has that name;
- its contact is the requester, found among the customer's contacts by external id or
  email, or added as a new contact;
- opened = `created_at`; first response = opened + the ticket metrics' calendar reply
  time; resolved = the metrics' `solved_at` while the ticket is solved or closed;
  contacts count = the agent replies it took (at least 1), so a ticket solved with one
  reply counts as first contact resolution;
- a ticket that becomes solved sends `accounts.signals.ticket_resolved`, which invites
  its contact to the transactional CSAT survey (surveys decides, as for the REST API).

The webhook is signed as Zendesk signs: base64 HMAC-SHA256 of timestamp + body with the
webhook's signing secret, in `X-Zendesk-Webhook-Signature(-Timestamp)`.
"""

import base64
import datetime
import hashlib
import hmac
import time

import requests
from django.db import transaction
from django.utils import timezone
from requests.adapters import HTTPAdapter

from accounts.models import Contact, Customer, Ticket
from accounts.signals import announce_if_resolved
from importing.records import record_save
from integrations import config, inbound, versions
from integrations.models import Connection, Kind

SIGNATURE_TOLERANCE_SECONDS = 300


class Refused(Exception):
    """The ticket cannot be stored; the message says why."""


# --- The API client ------------------------------------------------------------------------


class _Rebased(HTTPAdapter):
    """Sends what zenpy addresses to https://<subdomain>.zendesk.com to the configured base URL instead."""

    def __init__(self, base: str, **kwargs):
        super().__init__(**kwargs)
        self.base = base.rstrip("/")

    def send(self, request, **kwargs):
        original = request.url
        request.url = f"{self.base}/{original.partition('://')[2].partition('/')[2]}"
        try:
            return super().send(request, **kwargs)
        finally:
            request.url = original  # zenpy reads the answer by the Zendesk URL it asked


def client():
    """A zenpy client with the configured credentials (and base URL, e.g. a local test server)."""
    from zenpy import Zenpy  # imported here: zenpy loads a large object model

    settings = config.values(Kind.ZENDESK)
    if not (settings["subdomain"] and settings["email"] and settings["api_token"]):
        raise Refused("set the Zendesk subdomain, agent email and API token (Integrations page or INTEGRATION_ZENDESK_*)")
    session = requests.Session()
    if settings["url"]:
        session.mount("https://", _Rebased(settings["url"]))
    return Zenpy(subdomain=settings["subdomain"], email=settings["email"], token=settings["api_token"], session=session)


def signature_ok(body: bytes, signature: str, timestamp: str) -> bool:
    secret = config.value(Kind.ZENDESK, "webhook_secret")
    if not (secret and signature and timestamp):
        return False
    try:
        age = abs(time.time() - datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()
    return age <= SIGNATURE_TOLERANCE_SECONDS and hmac.compare_digest(expected, signature)


# --- Tickets -------------------------------------------------------------------------------


def _dict(obj) -> dict:
    if obj is None:
        return {}
    return obj if isinstance(obj, dict) else obj.to_dict()


def _instant(text) -> datetime.datetime | None:
    if not text:
        return None
    if isinstance(text, datetime.datetime):
        return text if text.tzinfo else text.replace(tzinfo=datetime.UTC)
    return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


class Fetcher:
    """Organisations and users read once per run."""

    def __init__(self, api):
        self.api = api
        self.organisations: dict[int, dict] = {}
        self.users: dict[int, dict] = {}

    def organisation(self, org_id):
        if org_id not in self.organisations:
            self.organisations[org_id] = _dict(self.api.organizations(id=org_id))
        return self.organisations[org_id]

    def user(self, user_id):
        if user_id not in self.users:
            self.users[user_id] = _dict(self.api.users(id=user_id))
        return self.users[user_id]

    def metrics(self, ticket_id) -> dict:
        return _dict(self.api.tickets.metrics(ticket_id))


def customer_for(organisation: dict) -> str:
    if not organisation:
        raise Refused("the requester belongs to no organisation, so the customer is unknown")
    external_id = str(organisation.get("external_id") or "").strip()
    if external_id and Customer.objects.filter(external_id=external_id).exists():
        return external_id
    by_name = list(Customer.objects.filter(name=organisation.get("name", "")).values_list("external_id", flat=True)[:2])
    if len(by_name) == 1:
        return by_name[0]
    raise Refused(
        f"the organisation {organisation.get('name')!r} (external id {external_id or 'not set'}) is no customer: "
        "set its external_id to the customer's"
    )


def contact_for(customer_external_id: str, requester: dict) -> Contact | None:
    if not requester:
        return None
    customer = Customer.objects.get(external_id=customer_external_id)
    external_id = str(requester.get("external_id") or "").strip()
    email = (requester.get("email") or "").strip()
    found = None
    if external_id:
        found = customer.contacts.filter(external_id=external_id).first()
    if found is None and email:
        found = customer.contacts.filter(email__iexact=email).first()
    if found is not None:
        return found
    cells = {"customer_external_id": customer_external_id, "external_id": external_id or email or f"zendesk-{requester['id']}"}
    if email:
        cells["email"] = email
    if requester.get("name"):
        cells["name"] = requester["name"][:200]
    saved, parsed = record_save("contacts", cells)
    if saved is None:
        raise Refused("; ".join(f"requester {c}: {m}" for c, m in parsed.errors))
    return saved


def ticket_cells(ticket: dict, metrics: dict, customer_external_id: str) -> dict:
    opened = _instant(ticket["created_at"])
    cells = {
        "external_id": str(ticket["id"]),
        "customer_external_id": customer_external_id,
        "opened_at": opened.isoformat(),
        "first_response_at": "",
        "resolved_at": "",
        "contacts_count": "",
        "channel": str((ticket.get("via") or {}).get("channel") or "")[:50],
        "priority": str(ticket.get("priority") or "")[:50],
        "subject": str(ticket.get("subject") or "")[:300],
    }
    reply = (metrics.get("reply_time_in_minutes") or {}).get("calendar")
    if reply is not None:
        cells["first_response_at"] = (opened + datetime.timedelta(minutes=int(reply))).isoformat()
    if ticket.get("status") in ("solved", "closed"):
        solved = _instant(metrics.get("solved_at")) or _instant(ticket.get("updated_at"))
        cells["resolved_at"] = solved.isoformat()
        cells["contacts_count"] = str(max(1, int(metrics.get("replies") or 0)))
    return cells


def ticket_apply(ticket: dict, fetch: Fetcher) -> str:
    """Store one Zendesk ticket (newest state wins); return what was done. Raises Refused."""
    updated = _instant(ticket.get("updated_at")) or timezone.now()
    with transaction.atomic():
        if not versions.claim(Kind.ZENDESK, str(ticket["id"]), updated):
            return "older than the state applied already"
        organisation = fetch.organisation(ticket["organization_id"]) if ticket.get("organization_id") else {}
        customer = customer_for(organisation)
        requester = fetch.user(ticket["requester_id"]) if ticket.get("requester_id") else {}
        contact = contact_for(customer, requester)
        was_resolved = Ticket.objects.filter(external_id=str(ticket["id"])).values_list("resolved_at", flat=True).first()
        saved, parsed = record_save("tickets", ticket_cells(ticket, fetch.metrics(ticket["id"]), customer))
        if saved is None:
            raise Refused("; ".join(f"{c}: {m}" for c, m in parsed.errors))
        if contact is not None and saved.contact_id != contact.pk:
            saved.contact = contact
            saved.save(update_fields=["contact"])
        announce_if_resolved(was_resolved, saved)
    return "ticket solved" if saved.resolved_at and was_resolved is None else "ticket applied"


def ticket_id_of(payload: dict) -> str:
    """The ticket a webhook names: our trigger body's `ticket_id`, a `ticket` object, or an event's `detail`."""
    for candidate in (payload.get("ticket_id"), (payload.get("ticket") or {}).get("id"), (payload.get("detail") or {}).get("id")):
        if candidate not in (None, ""):
            return str(candidate).strip()
    raise Refused("the payload names no ticket (send ticket_id)")


def receive(payload: dict, request=None, log=True) -> dict:
    """The webhook after its signature was checked: fetch the ticket and apply it (logged unless `log` is off)."""
    try:
        ticket_id = ticket_id_of(payload)
        api = client()
        ticket = _dict(api.tickets(id=int(ticket_id)))
        result = ticket_apply(ticket, Fetcher(api))
    except Exception as exc:  # noqa: BLE001 - every failure is answered and kept for replay
        if not isinstance(exc, Refused | ValueError | KeyError) and not _is_api_error(exc):
            raise
        if log:
            inbound.log_refused(Kind.ZENDESK, f"{type(exc).__name__}: {exc}", payload=payload,
                                event_type=str(payload.get("event") or payload.get("type") or ""),
                                external_id=str(payload.get("ticket_id") or ""), request=request)  # fmt: skip
        return {"success": False, "message": str(exc)}
    if log:
        inbound.log_accepted(Kind.ZENDESK, payload.get("event") or payload.get("type") or "ticket", ticket_id, request=request)
    return {"success": True, "result": result}


def _is_api_error(exc) -> bool:
    from zenpy.lib.exception import APIException, ZenpyException

    return isinstance(exc, APIException | ZenpyException | requests.RequestException)


def sync(*, start: datetime.datetime | None = None) -> dict:
    """Apply every ticket changed since `start` (default: where the last sync stopped) via the incremental export."""
    connection, _ = Connection.objects.get_or_create(kind=Kind.ZENDESK)
    if start is None:
        start = datetime.datetime.fromtimestamp(int(connection.options.get("sync_cursor_time") or 0), datetime.UTC)
    api = client()
    fetch = Fetcher(api)
    counts = {"applied": 0, "skipped": 0, "refused": 0}
    newest = start
    for ticket in api.tickets.incremental(start_time=int(start.timestamp())):
        data = _dict(ticket)
        try:
            if ticket_apply(data, fetch).startswith("older"):
                counts["skipped"] += 1
            else:
                counts["applied"] += 1
        except Refused as exc:
            counts["refused"] += 1
            inbound.log_refused(Kind.ZENDESK, str(exc), payload=data, event_type="sync", external_id=str(data.get("id")))
        newest = max(newest, _instant(data.get("updated_at")) or newest)
    connection.options["sync_cursor_time"] = int(newest.timestamp())
    connection.save(update_fields=["options", "updated_at"])
    return counts
