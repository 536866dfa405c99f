"""Survey services: invitations with fatigue rules, sending once, answers once, follow-up tasks."""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.models import Task
from surveys import services
from surveys.models import SkipReason, Survey, SurveyInvitation, SurveyResponse, SurveySkip
from surveys.services import Outcome
from surveys.tokens import sign, unsign
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory, SurveyResponseFactory, TicketFactory, UserFactory
from tests.surveys_support import NOW, InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


# --- Tokens ----------------------------------------------------------------------------


def test_a_signed_token_round_trips():
    assert unsign(sign("abc")) == "abc"


@pytest.mark.parametrize("tampered", ["", "abc", "abc:forged", "abd:" + sign("abc").split(":")[1], "x" * 80])
def test_forged_tokens_are_refused(tampered):
    assert unsign(tampered) is None


def test_a_token_signed_with_another_salt_is_refused():
    from django.core import signing

    assert unsign(signing.Signer(salt="something-else", algorithm="sha256").sign("abc")) is None


def test_invitation_tokens_are_long_and_unique():
    a, b = InvitationFactory(), InvitationFactory()
    assert a.token != b.token and len(a.token) >= 43


# --- Inviting: targets and fatigue -----------------------------------------------------


def test_survey_send_invites_the_segment_and_emails_each_contact_once(django_capture_on_commit_callbacks):
    survey = SurveyFactory(target_segment="SMB")
    contacts = ContactFactory.create_batch(2, customer=CustomerFactory(segment="SMB"))
    ContactFactory(customer=CustomerFactory(segment="Enterprise"))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.survey_send(survey=survey, now=NOW)
    assert (result.invited, result.skipped) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in contacts)
    assert all(i.sent_at is not None for i in SurveyInvitation.objects.all())


def test_sending_twice_invites_nobody_twice(django_capture_on_commit_callbacks):
    survey = SurveyFactory()
    ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_send(survey=survey, now=NOW)
        again = services.survey_send(survey=survey, now=NOW + DAY)
    assert again.invited == 0
    assert SurveySkip.objects.get().reason == SkipReason.ALREADY_INVITED
    assert len(mail.outbox) == 1


def test_drafts_and_transactional_surveys_send_nothing():
    ContactFactory()
    assert services.survey_send(survey=SurveyFactory(status=Survey.Status.DRAFT)).invited == 0
    assert services.survey_send(survey=SurveyFactory(target=Survey.Target.TRANSACTIONAL)).invited == 0


def test_contact_list_survey_invites_only_its_contacts():
    chosen, _other = ContactFactory(), ContactFactory()
    survey = SurveyFactory(target=Survey.Target.CONTACTS)
    survey.target_contacts.add(chosen)
    services.survey_send(survey=survey, now=NOW)
    assert list(SurveyInvitation.objects.values_list("contact", flat=True)) == [chosen.pk]


def test_opted_out_contacts_and_contacts_without_email_are_skipped_with_a_reason():
    ContactFactory(opted_out_at=NOW - DAY)
    ContactFactory(email="")
    result = services.survey_send(survey=SurveyFactory(), now=NOW)
    assert result.invited == 0
    assert sorted(SurveySkip.objects.values_list("reason", flat=True)) == ["no_email", "opted_out"]


def test_a_contact_surveyed_recently_is_skipped(settings):
    settings.CSPLATFORM_SURVEY_MIN_DAYS = 90
    recent = InvitationFactory(created_at=NOW - 89 * DAY).contact
    old = InvitationFactory(created_at=NOW - 91 * DAY).contact
    answered = SurveyResponseFactory(responded_at=NOW - 10 * DAY).contact
    result = services.survey_send(survey=SurveyFactory(), now=NOW)
    skipped = dict(SurveySkip.objects.values_list("contact", "reason"))
    assert skipped == {recent.pk: "recently_surveyed", answered.pk: "recently_surveyed"}
    assert result.invited == 1 and SurveyInvitation.objects.filter(contact=old, created_at=NOW).exists()


def test_at_most_n_contacts_per_customer_per_quarter(settings):
    settings.CSPLATFORM_SURVEY_MAX_CONTACTS_PER_QUARTER = 2
    customer = CustomerFactory()
    ContactFactory.create_batch(3, customer=customer)
    result = services.survey_send(survey=SurveyFactory(), now=NOW)
    assert (result.invited, result.skipped) == (2, 1)
    assert SurveySkip.objects.get().reason == SkipReason.CUSTOMER_QUOTA


def test_the_quarterly_limit_starts_again_next_quarter(settings):
    settings.CSPLATFORM_SURVEY_MAX_CONTACTS_PER_QUARTER = 1
    settings.CSPLATFORM_SURVEY_MIN_DAYS = 0
    customer = CustomerFactory()
    InvitationFactory(contact=ContactFactory(customer=customer), created_at=datetime.datetime(2024, 3, 30, tzinfo=datetime.UTC))
    survey = SurveyFactory(target=Survey.Target.CONTACTS)
    survey.target_contacts.add(ContactFactory(customer=customer))
    assert services.survey_send(survey=survey, now=datetime.datetime(2024, 4, 2, tzinfo=datetime.UTC)).invited == 1
    in_march = SurveyFactory(target=Survey.Target.CONTACTS)
    in_march.target_contacts.add(ContactFactory(customer=customer))
    assert services.survey_send(survey=in_march, now=datetime.datetime(2024, 3, 31, tzinfo=datetime.UTC)).invited == 0


# --- Transactional CSAT ----------------------------------------------------------------


def test_resolving_a_ticket_invites_its_contact_to_transactional_surveys(django_capture_on_commit_callbacks):
    survey = SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    contact = ContactFactory()
    ticket = TicketFactory(customer=contact.customer, contact=contact, resolved_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        [invitation] = services.ticket_resolved(ticket_id=ticket.pk, now=NOW)
    assert (invitation.survey, invitation.ticket, invitation.contact) == (survey, ticket, contact)
    assert len(mail.outbox) == 1


def test_an_open_ticket_or_one_without_contact_invites_nobody():
    SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    assert services.ticket_resolved(ticket_id=TicketFactory(contact=ContactFactory()).pk) == []
    assert services.ticket_resolved(ticket_id=TicketFactory(resolved_at=NOW).pk) == []
    assert services.ticket_resolved(ticket_id=0) == []


def test_transactional_surveys_respect_fatigue_rules():
    SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    contact = ContactFactory()
    first = TicketFactory(customer=contact.customer, contact=contact, resolved_at=NOW)
    second = TicketFactory(customer=contact.customer, contact=contact, resolved_at=NOW + DAY)
    services.ticket_resolved(ticket_id=first.pk, now=NOW)
    assert services.ticket_resolved(ticket_id=second.pk, now=NOW + DAY) == []
    assert SurveySkip.objects.get().reason == SkipReason.RECENTLY_SURVEYED


def test_the_ticket_resolved_task_runs_the_service():
    from surveys.tasks import ticket_resolved

    SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    contact = ContactFactory()
    ticket = TicketFactory(customer=contact.customer, contact=contact, resolved_at=NOW)
    assert ticket_resolved.delay(ticket.pk).get() == 1


# --- Emails: claimed before sending ----------------------------------------------------


def test_an_invitation_email_is_sent_once_however_often_the_task_runs():
    from surveys.tasks import invitation_send

    invitation = InvitationFactory(sent_at=None, created_at=NOW, expires_at=NOW + 365 * DAY)
    assert invitation_send.delay(invitation.pk).get() is True
    assert invitation_send.delay(invitation.pk).get() is False
    assert len(mail.outbox) == 1


def test_the_email_carries_score_links_in_the_contacts_language():
    contact = ContactFactory(language="de")
    invitation = InvitationFactory(contact=contact, sent_at=None, expires_at=NOW + 365 * DAY)
    services.invitation_email_send(invitation_id=invitation.pk, now=NOW)
    message = mail.outbox[0]
    assert message.subject.startswith("Wie wahrscheinlich")
    html = message.alternatives[0][0]
    assert f"{invitation.get_absolute_url()}?score=0" in html and "?score=10" in html
    assert "Dieser Link ist persönlich" in message.body


def test_a_failed_email_gives_its_claim_back(monkeypatch):
    import smtplib

    from django.core.mail import EmailMultiAlternatives

    invitation = InvitationFactory(sent_at=None, expires_at=NOW + 365 * DAY)

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        services.invitation_email_send(invitation_id=invitation.pk, now=NOW)
    invitation.refresh_from_db()
    assert invitation.sent_at is None


def test_one_reminder_goes_to_non_responders_only(settings):
    settings.CSPLATFORM_SURVEY_REMINDER_DAYS = 3
    silent = InvitationFactory(sent_at=NOW - 4 * DAY, created_at=NOW - 4 * DAY)
    answered = InvitationFactory(sent_at=NOW - 4 * DAY, created_at=NOW - 4 * DAY)
    SurveyResponseFactory(invitation=answered, customer=answered.customer, contact=answered.contact)
    InvitationFactory(sent_at=NOW - DAY, created_at=NOW - DAY)  # too early
    assert services.reminders_due(now=NOW) == [silent.pk]
    assert services.invitation_email_send(invitation_id=silent.pk, reminder=True, now=NOW)
    assert not services.invitation_email_send(invitation_id=silent.pk, reminder=True, now=NOW)
    assert services.reminders_due(now=NOW) == []
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Reminder")


# --- Answers ---------------------------------------------------------------------------


def test_the_first_answer_is_recorded_and_analysed(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    with django_capture_on_commit_callbacks(execute=True):  # the analysis runs once the answer is committed
        result = services.response_record(invitation=invitation, score=9, comment="Great support team!", now=NOW + DAY)
    result.response.refresh_from_db()
    assert result.outcome == Outcome.RECORDED
    response = result.response
    assert (response.score, response.customer, response.contact) == (9, invitation.customer, invitation.contact)
    assert response.language == "en" and response.sentiment > 0 and "support" in response.themes


def test_an_answer_can_be_changed_within_24_hours_but_never_duplicated():
    invitation = InvitationFactory()
    services.response_record(invitation=invitation, score=3, now=NOW)
    changed = services.response_record(invitation=invitation, score=8, comment="better", now=NOW + datetime.timedelta(hours=23))
    assert changed.outcome == Outcome.CHANGED and changed.response.score == 8
    late = services.response_record(invitation=invitation, score=10, now=NOW + datetime.timedelta(hours=25))
    assert late.outcome == Outcome.LOCKED
    assert SurveyResponse.objects.get().score == 8


def test_an_expired_invitation_takes_no_answer():
    invitation = InvitationFactory(expires_at=NOW + DAY)
    assert services.response_record(invitation=invitation, score=5, now=NOW + 2 * DAY).outcome == Outcome.EXPIRED
    assert not SurveyResponse.objects.exists()


def test_a_score_off_the_scale_is_refused():
    invitation = InvitationFactory(survey=SurveyFactory(survey_type="csat"))
    assert services.response_record(invitation=invitation, score=0, now=NOW).outcome == Outcome.INVALID


def test_the_database_refuses_a_second_response_to_one_invitation():
    invitation = InvitationFactory()
    SurveyResponseFactory(invitation=invitation, customer=invitation.customer, contact=invitation.contact)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponseFactory(invitation=invitation, customer=invitation.customer, contact=invitation.contact)


def test_two_answers_racing_leave_one_response(monkeypatch):
    """The second request did not see the first answer yet: the constraint stops it, politely."""
    invitation = InvitationFactory()
    first = services.response_record(invitation=invitation, score=10, now=NOW)
    monkeypatch.setattr(services, "response_of", lambda invitation: None)  # as if both read before either wrote
    second = services.response_record(invitation=invitation, score=0, now=NOW)
    assert second.outcome == Outcome.ALREADY_ANSWERED
    assert second.response.pk == first.response.pk
    assert SurveyResponse.objects.get().score == 10
    assert not Task.objects.exists()  # the refused detractor answer left nothing behind


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_score", [9, 0])
def test_two_answers_racing_outside_any_transaction_leave_one_response(monkeypatch, second_score):
    """A promoter's answer is a single INSERT in autocommit (no transaction of its own), a detractor's
    commits with its task: either way the refused second answer is ALREADY_ANSWERED and leaves nothing."""
    invitation = InvitationFactory()
    first = services.response_record(invitation=invitation, score=10, now=NOW)
    monkeypatch.setattr(services, "response_of", lambda invitation: None)
    second = services.response_record(invitation=invitation, score=second_score, comment="again", now=NOW)
    assert (second.outcome, second.response.pk) == (Outcome.ALREADY_ANSWERED, first.response.pk)
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [10]
    assert not Task.objects.exists()


# --- Closed loop -----------------------------------------------------------------------


@pytest.mark.parametrize(("survey_type", "score", "task"), [("nps", 6, True), ("nps", 7, False), ("csat", 2, True), ("csat", 3, False), ("ces", 1, False)])
def test_detractors_and_low_csat_get_a_follow_up_task_for_the_csm(survey_type, score, task):
    owner = UserFactory(role="csm")
    invitation = InvitationFactory(survey=SurveyFactory(survey_type=survey_type), contact=ContactFactory(customer=CustomerFactory(owner=owner)))
    response = services.response_record(invitation=invitation, score=score, comment="Zu teuer", now=NOW).response
    if task:
        assert response.follow_up_task.assignee == owner
        assert response.follow_up_task.source == Task.Source.SURVEY
    else:
        assert response.follow_up_task is None


def test_changing_to_a_detractor_creates_the_task_once():
    invitation = InvitationFactory()
    services.response_record(invitation=invitation, score=9, now=NOW)
    services.response_record(invitation=invitation, score=2, now=NOW + DAY / 2)
    services.response_record(invitation=invitation, score=1, now=NOW + DAY / 2)
    assert Task.objects.filter(source="survey").count() == 1


def test_changing_a_detractor_to_a_passive_completes_the_follow_up_instead_of_renaming_it():
    invitation = InvitationFactory()
    services.response_record(invitation=invitation, score=3, comment="Too slow", now=NOW)
    task = Task.objects.get(source="survey")
    title = task.title
    services.response_record(invitation=invitation, score=8, comment="Fixed now", now=NOW + DAY / 2)
    task.refresh_from_db()
    assert task.title == title and "NPS 8" not in task.title
    assert task.completed_at is not None and task.details == "Closed: the answer changed to 8.\nFixed now"
    services.response_record(invitation=invitation, score=2, now=NOW + DAY / 2)  # a detractor again: still one task
    assert Task.objects.filter(source="survey").count() == 1


# --- Analysis of stored responses and corrections ---------------------------------------


def test_the_command_analyses_imported_responses_and_keeps_corrected_themes():
    from django.core.management import call_command

    plain = SurveyResponseFactory(comment="Die Rechnung ist zu teuer.")
    corrected = SurveyResponseFactory(comment="The invoice is wrong.")
    services.themes_correct(response=corrected, themes=["billing ", "Onboarding"], user=None)
    call_command("analyze_feedback", "--all")
    plain.refresh_from_db()
    corrected.refresh_from_db()
    assert plain.language == "de" and "pricing" in plain.themes and plain.sentiment < 0
    assert corrected.themes == ["billing", "onboarding"] and corrected.language == "en"


def test_opting_out_stops_future_invitations():
    invitation = InvitationFactory()
    services.contact_opt_out(invitation=invitation, now=NOW)
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out_at == NOW
    services.survey_send(survey=SurveyFactory(), now=NOW + 200 * DAY)
    assert SurveySkip.objects.get(contact=invitation.contact).reason == SkipReason.OPTED_OUT


def test_mrr_at_response_time_weights_the_nps():
    from surveys import selectors

    big, small = CustomerFactory(), CustomerFactory()
    SubscriptionFactory(customer=big, mrr=900, started_at=datetime.date(2024, 1, 1))
    SubscriptionFactory(customer=small, mrr=100, started_at=datetime.date(2024, 1, 1), ended_at=datetime.date(2024, 2, 1))
    SubscriptionFactory(customer=small, mrr=300, started_at=datetime.date(2024, 2, 1))
    SurveyResponseFactory(customer=big, score=10, responded_at=NOW)
    SurveyResponseFactory(customer=small, score=0, responded_at=datetime.datetime(2024, 1, 15, tzinfo=datetime.UTC))
    pairs = sorted(selectors.revenue_by_score(SurveyResponse.objects.all()))
    assert pairs == [(0, 100), (10, 900)]


@pytest.mark.django_db(transaction=True)
def test_resolving_a_ticket_through_the_api_invites_its_contact(admin_user, django_capture_on_commit_callbacks):
    from accounts.models import Ticket
    from tests.api_support import client_for

    SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    contact = ContactFactory(email="jane@example.com")
    ticket = Ticket.objects.create(
        external_id="T-1", customer=contact.customer, contact=contact,
        opened_at=datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC),
    )  # fmt: skip
    api = client_for(admin_user)
    response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"subject": "still open"}, format="json")
    assert response.status_code == 200 and not SurveyInvitation.objects.exists()
    response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"resolved_at": "2024-03-02T10:00:00Z"}, format="json")
    assert response.status_code == 200
    assert SurveyInvitation.objects.filter(contact=contact, ticket=ticket).count() == 1
    api.patch(f"/api/v1/tickets/{ticket.pk}/", {"subject": "resolved, edited"}, format="json")
    assert SurveyInvitation.objects.count() == 1  # only the transition to resolved invites


def test_a_claim_is_a_lease_that_a_dead_worker_cannot_hold_forever(settings):
    settings.CSPLATFORM_SURVEY_SEND_LEASE_SECONDS = 600
    invitation = InvitationFactory(sent_at=None, created_at=NOW, expires_at=NOW + 365 * DAY)
    assert services.claim(invitation_id=invitation.pk, field="sent_at", now=NOW)  # the worker that then dies
    later = NOW + datetime.timedelta(minutes=5)
    assert not services.claim(invitation_id=invitation.pk, field="sent_at", now=later)
    assert services.stalled_sends(now=later) == []
    expired = NOW + datetime.timedelta(minutes=11)
    assert services.stalled_sends(now=expired) == [(invitation.pk, False)]
    mail.outbox = []
    assert services.invitation_email_send(invitation_id=invitation.pk, now=expired)
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at == expired
    assert not services.invitation_email_send(invitation_id=invitation.pk, now=expired + DAY)
    assert services.stalled_sends(now=expired + DAY) == []
