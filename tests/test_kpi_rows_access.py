"""The rows behind every KPI, per role and scope: the REST rows endpoint and the web drill-down
show exactly the rows the access policy grants, and agree with each other.

The worked example's February 2024, with its customers spread over three CSMs: carla owns
A and B, otto owns C and D, sam is assigned to A and E (owning none). No body may hold a
row, a name or a comment of a customer outside the caller's portfolio; company costs and
leads are the managers' and admins'.
"""

import datetime
import json

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Customer
from metrics.selectors import KPI_KEYS
from tests.api_support import API, client_for
from tests.factories import UserFactory
from tests.kpi_example import build_worked_example

pytestmark = pytest.mark.django_db
FEBRUARY = {"start": "2024-02-01", "end": "2024-03-01"}

# What each key's rows are made of: its kind decides who may see them. A new KPI key must be
# added here, or test_every_kpi_key_is_in_the_table fails.
COSTS_AND_CUSTOMERS = {"cac", "ltv_to_cac", "customer_retention_cost"}
LEADS = {"conversion_rate"}
CUSTOMER_ROWS = set(KPI_KEYS) - COSTS_AND_CUSTOMERS - LEADS
PORTFOLIOS = {"carla": "AB", "otto": "CD", "sam": "AE", "mona": "ABCDEFG", "ada": "ABCDEFG"}
CSMS = ("carla", "otto", "sam")
PERSONAS = (*CSMS, "mona", "ada")
SCOPES = {  # API query, web scope label
    "company": ({}, "company"),
    "segment": ({"segment": "SMB"}, "segment:SMB"),
}


def test_every_kpi_key_is_in_the_table():
    assert CUSTOMER_ROWS | COSTS_AND_CUSTOMERS | LEADS == set(KPI_KEYS)
    assert CUSTOMER_ROWS >= {"nps", "mrr", "mau", "first_contact_resolution_rate", "trial_conversion_rate"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2024, 3, 20, 9, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def world(admin_user, manager, csm, outsider):
    customers = build_worked_example()
    sam = UserFactory(username="sam", role="csm")
    Customer.objects.filter(external_id__in="AB").update(owner=csm)
    Customer.objects.filter(external_id__in="CD").update(owner=outsider)
    for letter in "AE":
        customers[letter].assigned_users.add(sam)
    users = {"carla": csm, "otto": outsider, "sam": sam, "mona": manager, "ada": admin_user}
    return customers, users


def expected_status(key, persona):
    return 403 if key in LEADS and persona in CSMS else 200


def customer_ids(rows) -> set[int]:
    ids = set()
    for row in rows:
        if "customer_id" in row:
            ids.add(row["customer_id"])
        elif "name" in row and "id" in row:  # cohorts of customers (trials, onboarding)
            ids.add(row["id"])
    return ids - {None}


def is_company_row(row) -> bool:
    return "category" in row or "cost" in row or "cost_month" in row or "source" in row


def foreign_texts(customers, persona) -> list[str]:
    """Names and comments of the customers outside the persona's portfolio."""
    from surveys.models import SurveyResponse

    outside = [c for letter, c in customers.items() if letter not in PORTFOLIOS[persona]]
    comments = SurveyResponse.objects.filter(customer__in=outside).exclude(comment="").values_list("comment", flat=True)
    return [c.name for c in outside] + [c for c in comments if len(c) > 3]


def api_rows(user, key, query):
    response = client_for(user).get(f"{API}kpis/{key}/rows/", {**FEBRUARY, **query, "limit": 1000})
    return response, (response.json()["results"] if response.status_code == 200 else None)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_kpi_rows_show_only_what_the_policy_grants_in_the_api_and_the_drilldown(world, client, persona, scope):
    """Every KPI key for one role and scope (the keys in a loop: the example is built once per test)."""
    customers, users = world
    user = users[persona]
    query, label = SCOPES[scope]
    allowed = {customers[letter].pk for letter in PORTFOLIOS[persona]}
    foreign = foreign_texts(customers, persona)
    client.force_login(user)
    for key in KPI_KEYS:
        response, rows = api_rows(user, key, query)
        status = expected_status(key, persona)
        assert response.status_code == status, (key, response.content)
        page = client.get(reverse("web:report-rows", args=[key]), {**FEBRUARY, "scope": label})
        assert page.status_code == status, key
        if status != 200:
            continue
        assert customer_ids(rows) <= allowed, key
        if persona in CSMS:
            assert not any(is_company_row(r) for r in rows), key
        body, html = json.dumps(rows), page.content.decode()
        for text in foreign:
            assert text not in body and text not in html, (key, text)
        # The drill-down shows the rows the endpoint returns.
        assert page.context["total"] == response.json()["count"] == len(rows), key
        assert customer_ids(page.context["rows"]) == customer_ids(rows), key


@pytest.mark.parametrize("persona", CSMS)
def test_a_csm_asking_for_their_own_portfolio_gets_its_rows(world, persona):
    customers, users = world
    _response, rows = api_rows(users[persona], "mrr_opening", {"csm": persona})
    paying = {c.pk for letter, c in customers.items() if letter in PORTFOLIOS[persona] and letter in "ABCF"}
    assert customer_ids(rows) == paying


def test_the_matrix_can_fail_managers_see_other_portfolios_and_costs(world):
    """The data behind the matrix holds foreign rows for every CSM: the manager's rows show them."""
    customers, users = world
    seen, company_rows = set(), 0
    for key in KPI_KEYS:
        _response, rows = api_rows(users["mona"], key, {})
        seen |= customer_ids(rows)
        company_rows += sum(is_company_row(r) for r in rows)
    assert seen == {c.pk for letter, c in customers.items() if letter in "ABCDEFG"}
    # four leads created in February, three retention cost rows, two acquisition cost rows twice (cac, ltv_to_cac)
    assert company_rows == 4 + 3 + 2 * 2
    for persona in CSMS:
        allowed = {customers[letter].pk for letter in PORTFOLIOS[persona]}
        assert seen - allowed


def test_a_csm_sees_their_rows_of_a_mixed_key_without_the_costs(world):
    customers, users = world
    _response, rows = api_rows(users["carla"], "customer_retention_cost", {})
    assert customer_ids(rows) == {customers["A"].pk}  # retained: A (B churned); C is otto's
    _response, rows = api_rows(users["mona"], "customer_retention_cost", {})
    assert customer_ids(rows) == {customers["A"].pk, customers["C"].pk}
    assert sum(is_company_row(r) for r in rows) == 3  # CS and support payroll, programs
