"""Factories and helpers shared by the tests/test_surveys_*.py files."""

import datetime

import factory
from factory.django import DjangoModelFactory

from surveys.models import SkipReason, Survey, SurveyInvitation, SurveySkip
from surveys.tokens import new_token
from tests.factories import ContactFactory

UTC = datetime.UTC
NOW = datetime.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


class SurveyFactory(DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"Survey {n}")
    survey_type = "nps"
    status = Survey.Status.ACTIVE
    target = Survey.Target.SEGMENT
    question_en = "How likely are you to recommend us to a friend or colleague?"
    question_de = "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?"
    follow_up_en = "What is the main reason for your score?"
    follow_up_de = "Was ist der wichtigste Grund für Ihre Bewertung?"
    follow_up_low_en = "What would make you recommend us?"
    follow_up_low_de = "Was müssten wir tun, damit Sie uns empfehlen?"


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = SurveyInvitation

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    customer = factory.SelfAttribute("contact.customer")
    token = factory.LazyFunction(new_token)
    created_at = NOW
    expires_at = factory.LazyAttribute(lambda o: o.created_at + datetime.timedelta(days=14))
    sent_at = NOW


class SkipFactory(DjangoModelFactory):
    class Meta:
        model = SurveySkip

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    reason = SkipReason.RECENTLY_SURVEYED
    skipped_at = NOW
