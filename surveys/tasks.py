"""Survey background work: sending invitations and reminders, transactional CSAT, analysis."""

import logging
import smtplib

from celery import shared_task
from django.db import OperationalError

from surveys import services
from surveys.models import Survey

log = logging.getLogger(__name__)

# A database outage is transient too; the claim makes a retried send safe.
TRANSIENT = (smtplib.SMTPException, ConnectionError, TimeoutError, OperationalError)


@shared_task(name="surveys.survey_send")
def survey_send(survey_id: int) -> dict:
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        log.warning("survey_send: survey %s does not exist", survey_id)
        return {}
    result = services.survey_send(survey=survey)
    return {"invited": result.invited, "skipped": result.skipped}


# acks_late is safe: the claim makes a second run a no-op.
@shared_task(name="surveys.invitation_send", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5, acks_late=True)
def invitation_send(invitation_id: int) -> bool:
    return services.invitation_email_send(invitation_id=invitation_id)


@shared_task(name="surveys.reminder_send", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5, acks_late=True)
def reminder_send(invitation_id: int) -> bool:
    return services.invitation_email_send(invitation_id=invitation_id, reminder=True)


@shared_task(name="surveys.reminders_send_due")
def reminders_send_due() -> int:
    """Queue the one reminder of every invitation that is due for it (run daily from beat)."""
    ids = services.reminders_due()
    for invitation_id in ids:
        reminder_send.delay(invitation_id)
    return len(ids)


@shared_task(name="surveys.stalled_sends_resume")
def stalled_sends_resume() -> int:
    """Queue again the emails whose worker died after claiming them (run from beat)."""
    stalled = services.stalled_sends()
    for invitation_id, reminder in stalled:
        (reminder_send if reminder else invitation_send).delay(invitation_id)
    return len(stalled)


@shared_task(name="surveys.ticket_resolved")
def ticket_resolved(ticket_id: int) -> int:
    return len(services.ticket_resolved(ticket_id=ticket_id))


# acks_late is safe: analysing the same comment again writes the same fields.
@shared_task(name="surveys.response_analyze", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def response_analyze(response_id: int) -> None:
    """Language, sentiment, keywords and themes of one answer's comment: queued on commit only when tasks
    run eagerly (otherwise `responses_analyze_pending` finds the answer), and to re-analyse one answer."""
    services.response_analyze(response_id=response_id)


# Seconds of a run: under the minute between two beat runs, so a backlog is worked off by one run a minute
# (and by every worker of the analysis queue at once on PostgreSQL, which skips the rows another holds).
PENDING_SECONDS = 50


@shared_task(name="surveys.responses_analyze_pending")
def responses_analyze_pending() -> int:
    """Analyse the answers stored since the last run, in batches (run every minute from beat)."""
    return services.responses_analyze_pending(seconds=PENDING_SECONDS)


@shared_task(name="surveys.responses_analyze")
def responses_analyze(everything: bool = False) -> int:
    return services.responses_analyze(everything=everything)
