"""Helpers for the REST API tests: token clients per persona and a small world of records."""

import datetime
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from importing.models import ImportJob
from surveys.models import Survey
from tests.factories import (
    ContactFactory,
    CostEntryFactory,
    CustomerFactory,
    LeadFactory,
    NoteFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
    UsageEventFactory,
)

API = "/api/v1/"


@pytest.fixture
def fresh_throttles():
    """Start every test with empty throttle counters (they live in the cache, keyed by user id)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tmp_media(settings, tmp_path):
    """Keep uploaded import files out of var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user=None) -> APIClient:
    """Return an API client sending `user`'s token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@dataclass
class World:
    """Records of one customer owned by the `csm` persona, plus company data."""

    customer: object
    contact: object
    subscription: object
    ticket: object
    usage_event: object
    survey_response: object
    task: object
    note: object
    cost: object
    lead: object
    import_job: object
    survey: object

    def object_for(self, resource):
        return getattr(self, RESOURCE_ATTRS[resource])


RESOURCE_ATTRS = {
    "customers": "customer",
    "contacts": "contact",
    "subscriptions": "subscription",
    "tickets": "ticket",
    "usage-events": "usage_event",
    "survey-responses": "survey_response",
    "tasks": "task",
    "notes": "note",
    "costs": "cost",
    "leads": "lead",
    "imports": "import_job",
    "surveys": "survey",
}


def make_world(owner) -> World:
    customer = CustomerFactory(owner=owner, external_id="ACME", name="Acme")
    contact = ContactFactory(customer=customer, external_id="u1")
    return World(
        customer=customer,
        contact=contact,
        subscription=SubscriptionFactory(customer=customer),
        ticket=TicketFactory(customer=customer),
        usage_event=UsageEventFactory(customer=customer, contact=contact),
        survey_response=SurveyResponseFactory(customer=customer, contact=contact),
        task=TaskFactory(customer=customer, assignee=owner),
        note=NoteFactory(customer=customer, author=owner),
        cost=CostEntryFactory(month=datetime.date(2024, 1, 1)),
        lead=LeadFactory(customer=customer),
        import_job=ImportJob.objects.create(kind="customers", file="imports/x.csv", original_name="x.csv"),
        survey=Survey.objects.create(name="Quarterly NPS", survey_type="nps", question_en="?", question_de="?"),
    )
