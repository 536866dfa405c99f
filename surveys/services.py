"""Survey writes: inviting contacts (with fatigue rules), sending emails once, recording answers.

Every function takes keyword-only arguments and runs in a transaction. Emails are sent
by the tasks in surveys/tasks.py, enqueued only once the invitations are committed.
"""

import contextlib
import datetime
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact, Customer, Task, Ticket
from accounts.reporting_time import day_of, reporting_tz
from surveys import emails, signals
from surveys.models import SkipReason, Survey, SurveyInvitation, SurveyResponse, SurveySkip
from surveys.tokens import new_token

log = logging.getLogger(__name__)


def quarter_start(moment: datetime.datetime) -> datetime.datetime:
    """Return the first instant of `moment`'s calendar quarter, in the reporting time zone."""
    local = moment.astimezone(reporting_tz())
    first_month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)


def skip_reason(*, contact: Contact, survey: Survey, ticket: Ticket | None, now: datetime.datetime) -> str | None:
    """Return why `contact` must not be invited now, or None when they may be."""
    if contact.opted_out_at is not None:
        return SkipReason.OPTED_OUT
    if not contact.email:
        return SkipReason.NO_EMAIL
    already = SurveyInvitation.objects.filter(survey=survey, contact=contact)
    if ticket is not None:
        already = already.filter(ticket=ticket)
    if already.exists():
        return SkipReason.ALREADY_INVITED
    since = now - datetime.timedelta(days=settings.CSPLATFORM_SURVEY_MIN_DAYS)
    if (
        SurveyInvitation.objects.filter(contact=contact, created_at__gt=since).exists()
        or contact.survey_responses.filter(responded_at__gt=since).exists()
    ):
        return SkipReason.RECENTLY_SURVEYED
    surveyed = (
        SurveyInvitation.objects.filter(customer_id=contact.customer_id, created_at__gte=quarter_start(now))
        .values("contact_id")
        .distinct()
        .count()
    )
    if surveyed >= settings.CSPLATFORM_SURVEY_MAX_CONTACTS_PER_QUARTER:
        return SkipReason.CUSTOMER_QUOTA
    return None


def _invite(*, survey: Survey, contact: Contact, ticket: Ticket | None, now: datetime.datetime):
    """Invite one contact or record why not; return the invitation or None."""
    # Lock the customer row: two sends for one customer must not both pass the quarterly limit.
    Customer.objects.select_for_update().filter(pk=contact.customer_id).first()
    reason = skip_reason(contact=contact, survey=survey, ticket=ticket, now=now)
    if reason is not None:
        SurveySkip.objects.create(survey=survey, contact=contact, ticket=ticket, reason=reason, skipped_at=now)
        return None
    return SurveyInvitation.objects.create(
        survey=survey,
        contact=contact,
        customer_id=contact.customer_id,
        ticket=ticket,
        token=new_token(),
        created_at=now,
        expires_at=now + datetime.timedelta(days=survey.valid_days),
    )


def _enqueue_sends(invitation_ids: list[int]) -> None:
    from surveys.tasks import invitation_send  # tasks import services; import late to avoid a cycle

    for invitation_id in invitation_ids:
        invitation_send.delay_on_commit(invitation_id)


def survey_targets(survey: Survey):
    """Return the contacts a segment or contact-list survey is meant for."""
    if survey.target == Survey.Target.CONTACTS:
        return survey.target_contacts.all()
    contacts = Contact.objects.all()
    if survey.target_segment:
        contacts = contacts.filter(customer__segment=survey.target_segment)
    return contacts


@dataclass(frozen=True)
class SendResult:
    invited: int
    skipped: int


def survey_send(*, survey: Survey, now: datetime.datetime | None = None) -> SendResult:
    """Invite every target contact of an active survey that the fatigue rules allow; queue the emails."""
    now = now or timezone.now()
    if survey.status != Survey.Status.ACTIVE or survey.target == Survey.Target.TRANSACTIONAL:
        return SendResult(0, 0)
    invited, skipped = [], 0
    for contact in survey_targets(survey).order_by("customer_id", "pk").iterator():
        with transaction.atomic():
            invitation = _invite(survey=survey, contact=contact, ticket=None, now=now)
            if invitation is None:
                skipped += 1
            else:
                invited.append(invitation.pk)
                _enqueue_sends([invitation.pk])
    return SendResult(len(invited), skipped)


@transaction.atomic
def ticket_resolved(*, ticket_id: int, now: datetime.datetime | None = None) -> list[SurveyInvitation]:
    """Invite the contact of a resolved ticket to every active transactional survey (fatigue rules apply).

    Call it wherever a ticket's `resolved_at` gets set (or enqueue `surveys.ticket_resolved`).
    """
    now = now or timezone.now()
    ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id).first()
    if ticket is None or ticket.resolved_at is None or ticket.contact is None:
        return []
    surveys = Survey.objects.filter(status=Survey.Status.ACTIVE, target=Survey.Target.TRANSACTIONAL)
    invitations = [i for s in surveys if (i := _invite(survey=s, contact=ticket.contact, ticket=ticket, now=now))]
    _enqueue_sends([i.pk for i in invitations])
    return invitations


def _lease_field(field: str) -> str:
    return field.replace("sent_at", "sending_at")


def claim(*, invitation_id: int, field: str, now: datetime.datetime) -> bool:
    """Take the lease on an unsent email (a conditional UPDATE); True if this worker may send it.

    Nobody else holds it unless their lease is younger than CSPLATFORM_SURVEY_SEND_LEASE_SECONDS:
    a worker killed after claiming blocks the email only until its lease runs out.
    """
    lease = _lease_field(field)
    expired = now - datetime.timedelta(seconds=settings.CSPLATFORM_SURVEY_SEND_LEASE_SECONDS)
    free = Q(**{f"{lease}__isnull": True}) | Q(**{f"{lease}__lte": expired})
    return bool(
        SurveyInvitation.objects.filter(free, pk=invitation_id, **{f"{field}__isnull": True}).update(**{lease: now})
    )


def confirm(*, invitation_id: int, field: str, now: datetime.datetime) -> None:
    """Record that the email went out."""
    SurveyInvitation.objects.filter(pk=invitation_id).update(**{field: now})


def unclaim(*, invitation_id: int, field: str, now: datetime.datetime) -> None:
    """Give a claim back after the email failed, so a retry may send it."""
    SurveyInvitation.objects.filter(pk=invitation_id, **{_lease_field(field): now}).update(**{_lease_field(field): None})


def invitation_email_send(*, invitation_id: int, reminder: bool = False, now: datetime.datetime | None = None) -> bool:
    """Send the invitation (or its one reminder) unless it went out already; True if this call sent it.

    The row is claimed first, so a retried or duplicated task never sends twice; when the
    mail server refuses, the claim is given back and the error raised for the task to retry.
    A worker killed between claim and send leaves a lease that expires, after which
    `stalled_sends` finds the email again: none is lost.
    """
    now = now or timezone.now()
    field = "reminder_sent_at" if reminder else "sent_at"
    invitation = SurveyInvitation.objects.select_related("survey", "contact", "customer").filter(pk=invitation_id).first()
    if invitation is None or invitation.contact.opted_out_at is not None or invitation.expires_at <= now:
        return False
    if reminder and (invitation.sent_at is None or SurveyResponse.objects.filter(invitation=invitation).exists()):
        return False
    if not claim(invitation_id=invitation_id, field=field, now=now):
        return False
    try:
        emails.invitation_message(invitation, reminder=reminder).send()
    except Exception:
        unclaim(invitation_id=invitation_id, field=field, now=now)
        raise
    confirm(invitation_id=invitation_id, field=field, now=now)
    return True


def stalled_sends(*, now: datetime.datetime | None = None) -> list[tuple[int, bool]]:
    """Return (invitation id, is reminder) of emails claimed by a worker that never confirmed them."""
    now = now or timezone.now()
    expired = now - datetime.timedelta(seconds=settings.CSPLATFORM_SURVEY_SEND_LEASE_SECONDS)
    open_invitations = SurveyInvitation.objects.filter(expires_at__gt=now)
    first = open_invitations.filter(sent_at__isnull=True, sending_at__lte=expired).values_list("pk", flat=True)
    second = open_invitations.filter(reminder_sent_at__isnull=True, reminder_sending_at__lte=expired).values_list(
        "pk", flat=True
    )
    return [(pk, False) for pk in first] + [(pk, True) for pk in second]


def reminders_due(*, now: datetime.datetime | None = None):
    """Return the ids of open invitations to remind: sent long enough ago, not answered, not reminded."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.CSPLATFORM_SURVEY_REMINDER_DAYS)
    return list(
        SurveyInvitation.objects.filter(
            sent_at__lte=cutoff,
            reminder_sent_at__isnull=True,
            expires_at__gt=now,
            response__isnull=True,
            survey__status=Survey.Status.ACTIVE,
            contact__opted_out_at__isnull=True,
        ).values_list("pk", flat=True)
    )


# --- Answers ---------------------------------------------------------------------------


class Outcome:
    RECORDED = "recorded"
    CHANGED = "changed"
    ALREADY_ANSWERED = "already_answered"
    LOCKED = "locked"  # the change window is over
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class RecordResult:
    outcome: str
    response: SurveyResponse | None = None


def can_change(response: SurveyResponse, now: datetime.datetime) -> bool:
    """True while the contact may still change their answer (24 hours after the first one by default)."""
    return now < response.responded_at + datetime.timedelta(hours=settings.CSPLATFORM_SURVEY_CHANGE_HOURS)


def response_record(
    *, invitation: SurveyInvitation, score: int, comment: str = "", now: datetime.datetime | None = None
) -> RecordResult:
    """Store the answer to `invitation`: the first one creates the response, later ones may change it.

    Never creates a second response: the database refuses it (OneToOne), and the refusal
    comes back as ALREADY_ANSWERED rather than an error.
    """
    now = now or timezone.now()
    survey = invitation.survey
    if score not in survey.scale:
        return RecordResult(Outcome.INVALID)
    existing = response_of(invitation)
    if existing is not None:
        return _response_change(response=existing, score=score, comment=comment, now=now)
    if now >= invitation.expires_at:
        return RecordResult(Outcome.EXPIRED)
    response = SurveyResponse(
        invitation=invitation,
        customer_id=invitation.customer_id,
        contact=invitation.contact,
        survey_type=survey.survey_type,
        score=score,
        comment=comment.strip(),
        responded_at=now,
    )
    # A detractor's answer and its follow-up task commit together. Any other answer is one INSERT:
    # in autocommit it needs no BEGIN and COMMIT round trips (most submits); inside a caller's
    # transaction it keeps its savepoint, so a refused INSERT leaves that transaction usable.
    alone = not response.needs_follow_up and not transaction.get_connection().in_atomic_block
    try:
        with contextlib.nullcontext() if alone else transaction.atomic():
            response.save(force_insert=True)
            _follow_up(response)
            _analysis_enqueue(response)
    except IntegrityError:
        # Another request answered the same invitation a moment before us.
        return RecordResult(Outcome.ALREADY_ANSWERED, SurveyResponse.objects.filter(invitation=invitation).first())
    return RecordResult(Outcome.RECORDED, response)


def response_of(invitation: SurveyInvitation) -> SurveyResponse | None:
    """Return the invitation's response: read with it by `invitation_for_token`, else one query."""
    try:
        return invitation.response
    except SurveyResponse.DoesNotExist:
        return None


@transaction.atomic
def _response_change(*, response: SurveyResponse, score: int, comment: str, now: datetime.datetime) -> RecordResult:
    response = SurveyResponse.objects.select_for_update().get(pk=response.pk)
    if not can_change(response, now):
        return RecordResult(Outcome.LOCKED, response)
    response.score, response.comment, response.changed_at = score, comment.strip(), now
    response.language, response.sentiment, response.keywords, response.analyzed_at = "", None, [], None
    if not response.themes_corrected:
        response.themes = []
    response.save()
    _follow_up(response)
    _analysis_enqueue(response)
    return RecordResult(Outcome.CHANGED, response)


def _analysis_enqueue(response: SurveyResponse) -> None:
    """Leave the comment to the analysis worker: the web worker that stored it never loads the language
    and sentiment models (about 100–200 MB each process), nor waits for them, nor sends a broker message.

    The answer is stored with `analyzed_at` empty, and the beat task `surveys.responses_analyze_pending`
    analyses every such answer within a minute, in batches (`responses_analyze_pending`). Only when
    tasks run eagerly (no worker and no beat: the tests, a one-process setup) is the analysis run here,
    once the answer is committed, so that it happens at all.
    """
    if not response.comment:
        return  # nothing to analyse: the batch marks it analysed with the empty analysis
    from surveys.tasks import response_analyze  # tasks import services; import late to avoid a cycle

    if response_analyze.app.conf.task_always_eager:
        response_analyze.delay_on_commit(response.pk)


ANALYSIS_FIELDS = ["language", "sentiment", "keywords", "themes", "analyzed_at"]


def _analyze(response: SurveyResponse, hint: str = "") -> None:
    from surveys.analysis import analyze  # the models load in the worker that analyses, not where this is imported

    result = analyze(response.comment, hint=hint)
    response.language = result.language
    response.sentiment = None if result.sentiment is None else round(result.sentiment, 3)
    response.keywords = result.keywords
    if not response.themes_corrected:
        response.themes = result.themes
    response.analyzed_at = timezone.now()
    # Only the analysis: an answer changed meanwhile keeps its new score and comment.
    response.save(update_fields=ANALYSIS_FIELDS)


def _follow_up_title(response: SurveyResponse) -> str:
    who = str(response.contact) if response.contact else "a contact"
    return f"Follow up: {response.survey_type.upper()} {response.score} from {who}"[:200]


def _follow_up(response: SurveyResponse) -> None:
    """Create the CSM's follow-up task for a detractor or low CSAT answer (once per response)."""
    if response.follow_up_task_id:
        title = _follow_up_title(response)
        still_open = Task.objects.filter(pk=response.follow_up_task_id, completed_at__isnull=True)
        if response.needs_follow_up:
            # The contact changed their answer and still needs a call: the open task shows what they say now.
            still_open.update(title=title, details=response.comment)
        else:
            # They changed it to an answer that needs no follow-up (NPS 3 → 8): the task is done, saying why.
            note = f"Closed: the answer changed to {response.score}." + (f"\n{response.comment}" if response.comment else "")
            still_open.update(details=note, completed_at=timezone.now())
        return
    if not response.needs_follow_up:
        return
    customer = response.customer
    task = Task.objects.create(
        customer=customer,
        assignee_id=customer.owner_id,
        title=_follow_up_title(response),
        details=response.comment,
        due_on=day_of(response.responded_at) + datetime.timedelta(days=3),
        source=Task.Source.SURVEY,
        created_at=response.responded_at,
    )
    response.follow_up_task = task
    response.save(update_fields=["follow_up_task"])
    transaction.on_commit(lambda: signals.follow_up_needed.send(sender=SurveyResponse, response=response))


def response_analyze(*, response_id: int) -> None:
    """(Re-)analyse one stored response; themes a CSM corrected stay as they are."""
    response = SurveyResponse.objects.select_related("contact").filter(pk=response_id).first()
    if response is not None:
        _analyze(response, hint=response.contact.language if response.contact else "")


ANALYSIS_BATCH = 200  # rows per transaction: about one second of analysis (3–6 ms a comment)


def responses_analyze_pending(*, batch_size: int = ANALYSIS_BATCH, seconds: float | None = None) -> int:
    """Analyse the responses not analysed yet (`analyzed_at IS NULL`), oldest first; return how many.

    Each batch of `batch_size` rows is one transaction that holds its rows (`FOR UPDATE SKIP LOCKED`
    on PostgreSQL), so several workers share a backlog instead of analysing the same rows, and a
    contact changing their answer meanwhile waits for the batch (about a second), then clears the
    analysis for the next run. Each row has its own savepoint: a comment whose analysis fails is
    logged and left for the next run, the rest of its batch is kept. Running it again analyses
    nothing twice. Stops when nothing is left, or after the first batch that ends past `seconds`
    (the beat task's budget within its minute).
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    skip_locked = connection.features.has_select_for_update_skip_locked
    analysed, after = 0, 0
    while True:
        with transaction.atomic():
            pending = SurveyResponse.objects.filter(analyzed_at__isnull=True, pk__gt=after).order_by("pk")
            if skip_locked:
                pending = pending.select_for_update(skip_locked=True, of=("self",))
            batch = list(
                pending.select_related("contact").only("comment", "themes_corrected", "contact__language")[:batch_size]
            )
            for response in batch:
                after = response.pk
                try:
                    with transaction.atomic():
                        _analyze(response, hint=response.contact.language if response.contact else "")
                except OperationalError:
                    raise  # the database is gone: the whole run is over, the next one starts again
                except Exception:
                    log.exception("surveys: analysing response %s failed; the next run tries again", response.pk)
                else:
                    analysed += 1
        if len(batch) < batch_size or (deadline is not None and time.monotonic() >= deadline):
            return analysed


def responses_analyze(*, everything: bool = False) -> int:
    """Analyse the responses never analysed (all of them with `everything`); return how many."""
    if not everything:
        return responses_analyze_pending()
    ids = list(SurveyResponse.objects.values_list("pk", flat=True))
    for response_id in ids:
        with transaction.atomic():
            response_analyze(response_id=response_id)
    return len(ids)


@transaction.atomic
def themes_correct(*, response: SurveyResponse, themes: list[str], user) -> SurveyResponse:
    """Replace the themes of a response with a CSM's; later re-analysis keeps them."""
    response.themes = sorted({t.strip().lower() for t in themes if t.strip()})
    response.themes_corrected = True
    response.themes_corrected_by = user
    response.save(update_fields=["themes", "themes_corrected", "themes_corrected_by"])
    return response


@transaction.atomic
def contact_opt_out(*, invitation: SurveyInvitation, now: datetime.datetime | None = None) -> None:
    """Opt the invitation's contact out of every future survey."""
    Contact.objects.filter(pk=invitation.contact_id, opted_out_at__isnull=True).update(
        opted_out_at=now or timezone.now()
    )


def invitation_open(*, invitation: SurveyInvitation, now: datetime.datetime | None = None) -> None:
    """Note the first time a link was opened (a GET changes nothing else)."""
    SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now or timezone.now())


def invitation_for_token(token: str | None) -> SurveyInvitation | None:
    """Return the invitation whose token this is, its survey, contact and response read with it, or None.

    The response comes in the same query (a reverse one-to-one): the public page needs it on every
    request. get() on the unique token leaves out the default ordering. A token with a NUL (which no
    token holds, and PostgreSQL refuses) finds nothing.
    """
    if not token or "\x00" in token:
        return None
    try:
        return SurveyInvitation.objects.select_related("survey", "contact", "response").get(token=token)
    except SurveyInvitation.DoesNotExist:
        return None
