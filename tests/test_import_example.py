"""The worked example of spec/kpis.md, imported from its CSV files in spec order."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import Contact, CostEntry, Customer, Lead, Subscription, Ticket, UsageEvent
from importing.runner import import_file
from surveys.models import SurveyResponse
from tests.import_support import at

EXAMPLE = Path("/work/shared/spec/example")
if not EXAMPLE.exists():  # a checkout with the spec beside the code
    EXAMPLE = Path(__file__).resolve().parents[1] / "spec" / "example"
ORDER = ("customers", "subscriptions", "costs", "leads", "survey_responses", "tickets", "usage_events")

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not EXAMPLE.exists(), reason="spec/example not found")]


@pytest.fixture
def imported():
    return {kind: import_file(kind, EXAMPLE / f"{kind}.csv") for kind in ORDER}


def test_every_example_file_imports_cleanly(imported):
    assert {kind: (r.errors, r.committed) for kind, r in imported.items()} == {kind: ([], True) for kind in ORDER}
    assert {kind: r.created for kind, r in imported.items()} == {
        "customers": 7,
        "subscriptions": 11,
        "costs": 5,
        "leads": 5,
        "survey_responses": 22,
        "tickets": 6,
        "usage_events": 9,
    }


def test_example_values(imported):
    assert Customer.objects.get(external_id="C").segment == "Enterprise"
    assert Subscription.objects.filter(customer__external_id="E").count() == 2
    trial = Subscription.objects.get(customer__external_id="D", plan="trial")
    assert (trial.is_trial, trial.mrr, trial.ended_at) == (True, Decimal("0"), datetime.date(2024, 2, 19))
    assert SurveyResponse.objects.get(responded_at=at("2024-03-01T00:00")).score == 0
    assert CostEntry.objects.get(category="cs_payroll").amount == Decimal("3000")
    assert Lead.objects.get(external_id="L3").converted_at is None
    assert Ticket.objects.get(external_id="T6").resolved_at is None
    assert set(Contact.objects.values_list("customer__external_id", "external_id")) == {("A", "u1"), ("A", "u2"), ("C", "u3")}
    assert UsageEvent.objects.filter(contact__external_id="u1").count() == 5


def test_importing_the_example_twice_changes_nothing(imported):
    counts = [m.objects.count() for m in (Customer, Subscription, CostEntry, Lead, SurveyResponse, Ticket, UsageEvent)]
    again = {kind: import_file(kind, EXAMPLE / f"{kind}.csv") for kind in ORDER}
    assert all(r.created == 0 and r.updated == imported[kind].created for kind, r in again.items())
    assert counts == [m.objects.count() for m in (Customer, Subscription, CostEntry, Lead, SurveyResponse, Ticket, UsageEvent)]
