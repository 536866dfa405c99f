"""Faults: a worker killed in the middle of its work, then the task run again.

Snapshots are upserts, so the re-run leaves every snapshot once and equal to a clean
run's. Survey emails are claimed before they are sent, so a re-run never sends one twice;
a kill between two emails loses none. The children are real processes killed with
SIGKILL (PostgreSQL); the snapshot case is also simulated in-process, so SQLite runs it.
"""

import datetime
import re
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from metrics import snapshots, tasks
from metrics.models import KpiSnapshot
from surveys import tasks as survey_tasks
from surveys.models import SurveyInvitation
from tests.faults_support import child_env, kill_after, postgresql_url, start_child
from tests.kpi_example import build_worked_example
from tests.surveys_support import InvitationFactory, SurveyFactory

START, END = "2024-02-01", "2024-03-01"


def _figures() -> dict:
    """Return every stored snapshot's figures by (metric, scope, period); fail on a duplicate."""
    rows = KpiSnapshot.objects.values_list(
        "metric", "scope", "period_start", "period_end", "definition_version", "value", "numerator", "denominator", "reason"
    )
    figures = {}
    for metric, scope, start, end, version, *values in rows:
        key = (metric, scope, start, end, version)
        assert key not in figures, f"duplicate snapshot {key}"
        figures[key] = values
    return figures


def _clean_run_figures(labels) -> dict:
    KpiSnapshot.objects.all().delete()
    tasks.snapshot_chunk.delay(labels, START, END)
    return _figures()


def test_a_snapshot_run_killed_mid_way_and_run_again_leaves_each_snapshot_once(transactional_db):
    url = postgresql_url()
    build_worked_example()
    labels = snapshots.all_scopes()
    child = start_child(["snapshots", *labels, "--start", START, "--end", END], child_env(url))
    kill_after(child, lines=3)
    written = set(KpiSnapshot.objects.values_list("scope", flat=True))
    assert 3 <= len(written) < len(labels), "the kill should land in the middle of the run"

    tasks.snapshot_chunk.delay(labels, START, END)  # the re-delivered message (acks_late)
    after_kill = _figures()

    assert {scope for _, scope, *_ in after_kill} == set(labels)
    assert after_kill == _clean_run_figures(labels)


class Crash(Exception):
    """Stands for the process dying."""


def test_a_snapshot_run_crashing_mid_way_and_run_again_leaves_each_snapshot_once(db):
    build_worked_example()
    labels = snapshots.all_scopes()
    write = snapshots.snapshot_write
    calls = []

    def write_then_crash(scope, period, **kwargs):
        if len(calls) == 3:
            raise Crash
        calls.append(scope.label)
        return write(scope, period, **kwargs)

    with mock.patch.object(snapshots, "snapshot_write", write_then_crash), pytest.raises(Crash):
        tasks.snapshot_chunk.delay(labels, START, END)
    assert set(KpiSnapshot.objects.values_list("scope", flat=True)) == set(calls)

    tasks.snapshot_chunk.delay(labels, START, END)
    after_crash = _figures()
    assert after_crash == _clean_run_figures(labels)


# --- Survey emails ----------------------------------------------------------------------


@pytest.fixture
def invitations(transactional_db):
    """Five invitations not sent yet, each to its own contact."""
    now = timezone.now()
    survey = SurveyFactory()
    return [
        InvitationFactory(survey=survey, sent_at=None, created_at=now, expires_at=now + datetime.timedelta(days=14))
        for _ in range(5)
    ]


def _recipients_in(mail_dir) -> list[str]:
    """Return the To: address of every message the file backend wrote."""
    found = []
    for path in mail_dir.iterdir():
        found += re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE)
    return found


def _emails_child(invitations, mail_dir, *extra):
    env = child_env(postgresql_url(), FAULTS_MAIL_DIR=str(mail_dir))
    return start_child(["emails", *[str(i.pk) for i in invitations], *extra], env)


def test_a_sender_killed_between_two_emails_loses_none_and_sends_none_twice(invitations, tmp_path):
    child = _emails_child(invitations, tmp_path)
    kill_after(child, lines=2)
    assert 2 <= len(_recipients_in(tmp_path)) < len(invitations)

    mail.outbox = []
    for invitation in invitations:  # the killed task's re-delivery and the tasks still queued
        survey_tasks.invitation_send.delay(invitation.pk)

    sent = _recipients_in(tmp_path) + [m.to[0] for m in mail.outbox]
    assert sorted(sent) == sorted(i.contact.email for i in invitations)
    assert not SurveyInvitation.objects.filter(sent_at__isnull=True).exists()


def test_a_sender_killed_between_claim_and_send_still_sends_that_email_once(invitations, tmp_path, settings):
    hung = invitations[1]
    child = _emails_child(invitations, tmp_path, "--hang-after-claim", str(hung.pk))
    assert kill_after(child, lines=2)[-1] == f"claimed {hung.pk}"

    mail.outbox = []
    for invitation in invitations:  # within the dead worker's lease: the claimed email waits
        survey_tasks.invitation_send.delay(invitation.pk)
    assert hung.contact.email not in [m.to[0] for m in mail.outbox]
    settings.CSPLATFORM_SURVEY_SEND_LEASE_SECONDS = 0  # the lease has run out
    assert survey_tasks.stalled_sends_resume.delay().get() == 1
    assert survey_tasks.stalled_sends_resume.delay().get() == 0

    sent = _recipients_in(tmp_path) + [m.to[0] for m in mail.outbox]
    assert sent.count(hung.contact.email) == 1, "the email claimed by the killed worker was lost"
