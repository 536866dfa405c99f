"""The public page's one SELECT (`services.invitation_for_token`): the invitation with its survey,
contact and response, every value of the right type on SQLite and PostgreSQL, nothing read a second time."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Model

from surveys import services
from surveys.models import SurveyInvitation, SurveyResponse
from tests.factories import ContactFactory
from tests.surveys_support import NOW, InvitationFactory

pytestmark = pytest.mark.django_db


def _values(instance: Model) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _orm(token: str) -> SurveyInvitation:
    return SurveyInvitation.objects.select_related("survey", "contact", "response").get(token=token)


def test_an_answered_invitation_comes_with_everything_the_orm_would_read(django_assert_num_queries):
    contact = ContactFactory(language="de", opted_out_at=NOW, name="Jana")
    invitation = InvitationFactory(contact=contact)
    SurveyResponse.objects.create(
        invitation=invitation, customer=invitation.customer, contact=contact, survey_type="nps", score=3,
        comment="Zu teuer.", responded_at=NOW, language="de", sentiment=Decimal("-0.512"), themes=["pricing"],
        keywords=["teuer"], themes_corrected=True, analyzed_at=NOW + datetime.timedelta(minutes=1),
    )  # fmt: skip
    expected = _orm(invitation.token)
    with django_assert_num_queries(1):
        found = services.invitation_for_token(invitation.token)
        related = (found.survey, found.contact, found.response)
    assert _values(found) == _values(expected)
    for mine, theirs in zip(related, (expected.survey, expected.contact, expected.response)):
        assert type(mine) is type(theirs) and _values(mine) == _values(theirs)
    response = found.response
    assert response.sentiment == Decimal("-0.512") and response.themes == ["pricing"] and response.themes_corrected is True
    assert response.responded_at == NOW and found.contact.opted_out_at == NOW
    assert not found._state.adding and found._state.db == "default"


def test_an_unanswered_invitation_knows_it_has_no_response_without_asking_again(django_assert_num_queries):
    invitation = InvitationFactory()
    with django_assert_num_queries(1):
        found = services.invitation_for_token(invitation.token)
        assert services.response_of(found) is None
        assert found.survey.question("en") == invitation.survey.question_en
    assert _values(found) == _values(invitation)


@pytest.mark.parametrize("token", ["", None, "no-such-token", "\x00token"])
def test_an_unknown_token_finds_nothing(token):
    InvitationFactory()
    assert services.invitation_for_token(token) is None
