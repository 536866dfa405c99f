"""An account's history: its tickets, tasks, notes and survey responses, and the timeline that merges them,
as of today or of the start of a past day."""

import datetime
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Q, Value, When

from metrics.periods import day_start


@dataclass
class TimelineEntry:
    at: datetime.datetime
    kind: str  # note, task, ticket, response
    title: str
    body: str = ""
    obj: object = None
    done: bool = False  # a task completed by then
    open: bool = False  # a ticket still open then


def _until(at: datetime.date | None) -> datetime.datetime | None:
    """The instant a past view ends (the start of day `at`), or None for today's view: everything."""
    return day_start(at) if at is not None else None


def _flag(condition: Q) -> Case:
    """A boolean annotation: whether a row meets `condition`."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def account_tickets(customer, at: datetime.date | None = None):
    """Tickets opened before `at`, each with `open_then`: unresolved at the start of `at` (half-open)."""
    tickets = customer.tickets.all()
    still_open = Q(resolved_at__isnull=True)
    if at is not None:
        tickets = tickets.filter(opened_at__lt=_until(at))
        still_open |= Q(resolved_at__gte=_until(at))
    return tickets.annotate(open_then=_flag(still_open))


def account_tasks(customer, at: datetime.date | None = None):
    """Tasks (created before `at`), each with `done_then`: completed by the start of `at`."""
    tasks = customer.tasks.select_related("assignee")
    done = Q(completed_at__isnull=False)
    if at is not None:
        tasks = tasks.filter(created_at__lt=_until(at))
        done &= Q(completed_at__lt=_until(at))
    tasks = tasks.annotate(done_then=_flag(done))
    return list(tasks.order_by("done_then", "completed_at", "due_on", "-created_at")[:50])


def account_notes(customer, at: datetime.date | None = None):
    notes = customer.notes.select_related("author")
    if at is not None:
        notes = notes.filter(created_at__lt=_until(at))
    return list(notes[:50])


def account_responses(customer, at: datetime.date | None = None):
    """Survey responses before `at`, latest first."""
    responses = customer.survey_responses.select_related("contact")
    if at is not None:
        responses = responses.filter(responded_at__lt=_until(at))
    return responses.order_by("-responded_at", "-pk")


def account_timeline(customer, limit: int = 40, at: datetime.date | None = None, *, notes=None) -> list[TimelineEntry]:
    """Notes, tasks, tickets and survey responses (before `at`, as they were then), newest first.
    `notes`: the account's notes already read (`Account.notes`, newest first, at least `limit` if there are)."""
    entries = []
    for note in (account_notes(customer, at) if notes is None else notes)[:limit]:
        author = (note.author.get_full_name() or note.author.get_username()) if note.author else ""
        entries.append(TimelineEntry(note.created_at, "note", author, note.body, note))
    tasks = customer.tasks.select_related("assignee").order_by("-created_at")
    if at is not None:
        tasks = tasks.filter(created_at__lt=_until(at))
    for task in tasks[:limit]:
        done = task.completed_at is not None and (at is None or task.completed_at < _until(at))
        when = task.completed_at if done else task.created_at
        entries.append(TimelineEntry(when, "task", task.title, task.details, task, done=done))
    for ticket in account_tickets(customer, at)[:limit]:
        entries.append(TimelineEntry(ticket.opened_at, "ticket", ticket.subject or ticket.external_id, "", ticket,
                                     open=ticket.open_then))  # fmt: skip
    for response in account_responses(customer, at)[:limit]:
        entries.append(
            TimelineEntry(
                response.responded_at, "response", response.get_survey_type_display(), response.comment, response
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
