"""Which stored KPI snapshots a change of data makes stale: exactly the days it can move.

A change is a kind of input (`metrics.catalogue.INPUTS`) and its rows. Each kind maps a
row to the reporting days (accounts.reporting_time) whose periods' figures it can change;
the catalogue says which KPIs read that kind. `mark(kind, …)` stores one `StaleRange`
per run of days, carrying the kind, and the stale run recomputes the snapshots of every
period overlapping a range (only the KPIs of that kind).

A period [start, end) reads most inputs on the days start … end − 1 (an event, a
response, a ticket resolved on one of them), but subscriptions at the instants `start`
and `end` (MRR at start and at end): a range marks a period when they overlap, so the
spans below are days [first, last + 1) and, for subscription state, one day wider on the
left (a period that *ends* on a row's first day reads it).
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max, Min
from django.db.models.functions import Coalesce

from accounts.models import Customer, Subscription
from accounts.reporting_time import day_of, today
from accounts.signals import SCOPE_FIELDS
from lib.dates import EARLIEST
from metrics import catalogue
from metrics.models import StaleRange, UsageSession

DAY = datetime.timedelta(days=1)
EVER = EARLIEST  # the first day the product accepts

Span = tuple[datetime.date, datetime.date]  # reporting days [start, end)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Join overlapping or touching spans."""
    merged: list[list[datetime.date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _days(*values) -> list[Span]:
    """One-day spans of the reporting days of these instants or dates (None skipped)."""
    return [(day_of(v), day_of(v) + DAY) for v in values if v is not None]


# --- the span of each input kind ------------------------------------------------------


def subscription_spans(rows: list[dict]) -> list[Span]:
    """A row's whole span (open-ended: until today), widened to its customer's subscription history.

    Whether a customer is new or reactivated, when its first paying row starts (CAC) and
    whether a trial converted depend on the customer's other rows, so the span runs from
    the customer's first row to the later of its last row's start and the end of this one.
    """
    now = today()
    ids = {r["customer_id"] for r in rows}
    history = {
        h["customer_id"]: h
        for h in Subscription.objects.filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(first=Min("started_at"), last_start=Max("started_at"), last_end=Max(Coalesce("ended_at", "started_at")))
    }
    spans = []
    for r in rows:
        h = history.get(r["customer_id"], {})
        first = min(d for d in (r["started_at"], h.get("first")) if d is not None)
        ends = [r["started_at"], r["ended_at"] or now, h.get("last_start"), h.get("last_end")]
        last = max(d for d in ends if d is not None)
        spans.append((first - DAY, last + DAY))  # state at the instants start and end: one day wider left
    return spans


def customer_spans(rows: list[dict]) -> list[Span]:
    """A customer's sign-up day: the onboarding cohort it belongs to."""
    return _days(*(r.get("created_on") for r in rows))


def response_spans(rows: list[dict]) -> list[Span]:
    return _days(*(r.get("responded_at") for r in rows))


def ticket_spans(rows: list[dict]) -> list[Span]:
    return _days(*(v for r in rows for v in (r.get("opened_at"), r.get("first_response_at"), r.get("resolved_at"))))


def cost_spans(rows: list[dict]) -> list[Span]:
    """A cost counts in the period holding its month's first day."""
    return [(r["month"], r["month"] + DAY) for r in rows if r.get("month")]


def lead_spans(rows: list[dict]) -> list[Span]:
    """A lead counts in the period it was created in (its conversion is judged against that period's end)."""
    return _days(*(r.get("created_at") for r in rows))


def usage_spans(customer_ids, first: datetime.datetime, last: datetime.datetime) -> list[Span]:
    """The days of the sessions the events of [first, last] belong to (after the rollups are rebuilt).

    A late event can extend a session begun the day (or month) before, so the session's
    first day is stale too; and a customer in its onboarding window when the events
    happened has its sign-up day's cohort changed.
    """
    spans = _days(first, last)
    sessions = UsageSession.objects.filter(customer_id__in=customer_ids, started_at__lte=last, ended_at__gte=first)
    edges = sessions.aggregate(first=Min("started_at"), last=Max("ended_at"))
    if edges["first"] is not None:
        spans.append((day_of(edges["first"]), day_of(edges["last"]) + DAY))
    window = datetime.timedelta(days=settings.CSPLATFORM_ONBOARDING_DAYS)
    signed_up = Customer.objects.filter(
        pk__in=customer_ids, created_on__gt=day_of(first) - window, created_on__lte=day_of(last)
    ).values_list("created_on", flat=True)
    spans += _days(*set(signed_up))
    return spans


ROW_SPANS = {
    "subscriptions": subscription_spans,
    "customers": customer_spans,
    "responses": response_spans,
    "tickets": ticket_spans,
    "costs": cost_spans,
    "leads": lead_spans,
}
# The import kinds' names for the catalogue's inputs.
KIND_INPUT = {"survey_responses": "responses", "usage_events": "usage_events"}


def input_of(kind: str) -> str | None:
    """The catalogue input an import kind (or model name) writes; None when no KPI reads it (contacts)."""
    name = KIND_INPUT.get(kind, kind)
    return name if name in catalogue.INPUTS else None


def spans_for(kind: str, rows: list[dict]) -> list[Span]:
    """The reporting days whose periods a change of these rows of `kind` can move (usage events: see usage_spans)."""
    name = input_of(kind)
    if name is None or name == "usage_events":
        return []
    return merge(ROW_SPANS[name](rows))


def mark_days(start: datetime.date, end: datetime.date, name: str = "") -> None:
    """Mark the days [start, end) stale for the KPIs of input `name` (blank: every KPI)."""
    StaleRange.objects.create(start=start, end=end, input=name)


def mark(kind: str, spans: Iterable[Span]) -> int:
    """Store the merged spans as stale ranges of `kind`'s input; return how many."""
    name = input_of(kind)
    if name is None:
        return 0
    ranges = [StaleRange(start=start, end=end, input=name) for start, end in merge(spans)]
    StaleRange.objects.bulk_create(ranges)
    return len(ranges)


def mark_rows(kind: str, rows: list[dict]) -> int:
    """Mark stale what these changed rows of a record kind touch.

    A deleted customer takes all its rows with it, and a customer moved to another segment or
    CSM takes its figures from one scope to another: every stored period of every KPI may change.
    """
    if kind == "customers":
        ids = {r["customer_id"] for r in rows if r["customer_id"] is not None}
        scopes = {}
        for r in rows:
            scopes.setdefault(r["customer_id"], set()).add(tuple(r.get(f) for f in SCOPE_FIELDS))
        moved = any(len(seen) > 1 for seen in scopes.values())
        if moved or ids - set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True)):
            mark_scopes_moved()
    return mark(kind, spans_for(kind, rows))


def mark_scopes_moved() -> None:
    """Customers moved between scopes (a segment, an owner, assigned CSMs) or were deleted: every
    stored period of every KPI of the scopes they left and joined may change."""
    mark_days(EVER, today() + DAY)


def mark_import(result) -> int:
    """Mark stale what an import (or an announced API write) changed; usage rollups must be rebuilt first."""
    if result.kind == "usage_events":
        if result.touched_from is None or not result.touched_customer_ids:
            return 0
        return mark(result.kind, usage_spans(result.touched_customer_ids, result.touched_from, result.touched_to))
    return mark_rows(result.kind, result.changed_rows)


def keys_of_input(name: str) -> tuple[str, ...]:
    """The KPIs a stale range of this input recomputes (blank: every KPI)."""
    return catalogue.keys_changed_by([name]) if name else catalogue.KPI_KEYS
