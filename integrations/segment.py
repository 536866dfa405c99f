"""Product events by the Segment tracking API spec (Segment, RudderStack, Jitsu send the same).

`ingest(messages)` takes the calls of one request (`track`, `identify`, `group`, `page`,
`screen`, `alias`) and writes them with the import's rules:

- the customer is the call's `groupId` (top level or `context.groupId`), else the
  configured trait (`customer_trait`, default `company_id`) in `context.traits`,
  `traits` or `properties`, else the one customer whose contact the `userId` is;
- `userId` is the contact (a user unknown so far becomes one, as in the import);
- `track`, `page` and `screen` become usage events (`event`, or "Page viewed: name"),
  at `timestamp` (else `originalTimestamp`, else when received); `messageId` is their
  `event_id`, so a retried call is stored once;
- `identify` fills the contact's email and name from its traits, `group` creates or
  renames the customer (`traits.name`) and adds the user to it; `alias` is accepted and
  ignored.

A call that cannot be stored (no userId, no customer, a bad field) is refused alone and
kept in the log with its error; the others are stored. Events go through
`importing.records.events_record`, so they land in the same tables and rollups as the
CSV import, and late ones mark the KPI snapshots over their days stale.
"""

import hmac
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Contact, Customer
from importing.records import events_record, record_save
from integrations import config, inbound
from integrations.models import Kind

EVENT_TYPES = ("track", "page", "screen")
KNOWN_TYPES = (*EVENT_TYPES, "identify", "group", "alias")


class Refused(Exception):
    """One call cannot be stored; its message says why."""


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    refused: list[tuple[dict, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "refused": [{"messageId": m.get("messageId", ""), "error": e} for m, e in self.refused],
        }


def write_key_matches(given: str) -> bool:
    expected = config.value(Kind.SEGMENT, "write_key")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


class CustomerFinder:
    """Which customer (external id) a call belongs to; contacts looked up once per request."""

    def __init__(self, trait: str):
        self.trait = trait
        self.by_user: dict[str, str | None] = {}

    def __call__(self, message: dict) -> str:
        context = message.get("context") or {}
        group = _text(message.get("groupId") or context.get("groupId"))
        if group:
            return group
        for holder in (context.get("traits"), message.get("traits"), message.get("properties")):
            if isinstance(holder, dict) and _text(holder.get(self.trait)):
                return _text(holder[self.trait])
        user = _text(message.get("userId"))
        if user and user not in self.by_user:
            customers = list(
                Contact.objects.filter(external_id=user).values_list("customer__external_id", flat=True)[:2]
            )
            self.by_user[user] = customers[0] if len(customers) == 1 else None
        found = self.by_user.get(user)
        if not found:
            raise Refused(f"cannot tell the customer: send groupId, or the trait {self.trait!r}, or group the user first")
        return found


def ingest(messages: list, *, request=None, log=True) -> IngestResult:
    """Store the calls of one request; refused calls are logged with their error unless `log` is off (a replay)."""
    find_customer = CustomerFinder(config.value(Kind.SEGMENT, "customer_trait"))
    result = IngestResult()
    events: list[tuple[dict, dict]] = []  # (call, import cells)
    for message in messages:
        try:
            if not isinstance(message, dict):
                raise Refused("a call must be a JSON object")
            call = _text(message.get("type")).lower()
            if call not in KNOWN_TYPES:
                raise Refused(f"unknown call type {message.get('type')!r}; use one of {', '.join(KNOWN_TYPES)}")
            if call == "alias":
                result.accepted += 1
            elif call == "group":
                _group(message)
                result.accepted += 1
            elif call == "identify":
                _identify(message, find_customer)
                result.accepted += 1
            else:
                events.append((message, _event_cells(message, call, find_customer)))
        except Refused as exc:
            result.refused.append((message, str(exc)))
    _store_events(events, result)
    for message, error in result.refused if log else ():
        payload = message if isinstance(message, dict) else {"value": message}
        inbound.log_refused(
            Kind.SEGMENT, error, payload=payload, event_type=_text(payload.get("type")),
            external_id=_text(payload.get("messageId")), request=request,
        )  # fmt: skip
    return result


def _user(message) -> str:
    user = _text(message.get("userId"))
    if not user:
        raise Refused("no userId: anonymous calls are not stored (identify the user first)")
    return user


def _group(message):
    group = _text(message.get("groupId"))
    if not group:
        raise Refused("a group call needs a groupId")
    traits = message.get("traits") if isinstance(message.get("traits"), dict) else {}
    name = _text(traits.get("name"))
    if name or not Customer.objects.filter(external_id=group).exists():
        _saved("customers", {"external_id": group, "name": name or group})
    if _text(message.get("userId")):
        _saved("contacts", {"customer_external_id": group, "external_id": _user(message)})


def _identify(message, find_customer):
    user = _user(message)
    traits = message.get("traits") if isinstance(message.get("traits"), dict) else {}
    cells = {"customer_external_id": find_customer(message), "external_id": user}
    for column, trait in (("email", "email"), ("name", "name")):
        if _text(traits.get(trait)):
            cells[column] = _text(traits[trait])
    _saved("contacts", cells)


def _saved(kind, cells):
    obj, parsed = record_save(kind, cells)
    if obj is None:
        raise Refused("; ".join(f"{column}: {message}" for column, message in parsed.errors))
    return obj


def _event_cells(message, call, find_customer) -> dict:
    if call == "track":
        event_type = _text(message.get("event"))
        if not event_type:
            raise Refused("a track call needs an event name")
    else:
        name = _text(message.get("name")) or _text((message.get("properties") or {}).get("name"))
        event_type = f"{call.capitalize()} viewed" + (f": {name}" if name else "")
    when = _text(message.get("timestamp") or message.get("originalTimestamp")) or timezone.now().isoformat()
    return {
        "customer_external_id": find_customer(message),
        "user_external_id": _user(message),
        "event_type": event_type[:100] if call != "track" else event_type,
        "occurred_at": when,
        "session_id": _text((message.get("context") or {}).get("sessionId") or message.get("sessionId")),
        "event_id": _text(message.get("messageId")),
    }


def _store_events(events, result: IngestResult):
    """Write the events all at once; the import refuses a batch with errors, so refuse those calls and retry."""
    while events:
        stored = events_record([cells for _, cells in events])
        if stored.committed:
            result.accepted += stored.created + stored.updated
            result.duplicates += stored.updated
            return
        bad: dict[int, list[str]] = {}
        for error in stored.errors:
            bad.setdefault(error.line, []).append(f"{error.column}: {error.message}")
        if not bad:  # not stored, yet no call to blame: refuse them all rather than loop
            result.refused.extend((message, "not stored") for message, _ in events)
            return
        result.refused.extend((events[i][0], "; ".join(bad[i])) for i in sorted(bad))
        events = [event for i, event in enumerate(events) if i not in bad]
