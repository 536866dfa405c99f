"""Property-based bad input (hypothesis): whatever the query parameters or form fields hold —
dates at the edges of the calendar, huge numbers, NUL bytes, line breaks, odd Unicode — no
page or endpoint answers 5xx, and a refused write changes nothing."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Note, Task
from tests import factories as f
from tests.api_support import API, client_for, fresh_throttles  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]
PROFILE = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))

EDGE_DATES = st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01", "2024-02-30", "2024-13-01",
                              "0000-00-00", "99999-01-01", "2024-02-29", "1900-01-01", "2199-12-31"])  # fmt: skip
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
VALUES = st.one_of(EDGE_DATES, TEXT, st.integers().map(str), st.just("\x00"), st.just("a\nb"), st.just("9" * 400))
PARAMS = st.dictionaries(st.sampled_from(["start", "end", "month", "scope", "as_of", "customer", "segment", "csm",
                                          "keys", "interval", "limit", "offset", "page", "cursor", "at"]),
                         VALUES, max_size=5)  # fmt: skip


def _query(params):
    return {k: v.replace("\x00", "%00") if k in ("cursor",) else v for k, v in params.items()}


@pytest.fixture
def people(csm, manager):
    customer = f.CustomerFactory(owner=csm)
    return csm, manager, customer


@PROFILE
@given(params=PARAMS)
def test_kpi_endpoints_never_answer_5xx(people, params):
    csm, _manager, customer = people
    client = client_for(csm)
    for path in ("kpis/", "kpis/series/", "kpis/nps/rows/", "kpi-snapshots/", f"customers/{customer.pk}/health/"):
        response = client.get(f"{API}{path}", _query(params))
        assert response.status_code < 500, (path, params, response.content[:300])


@PROFILE
@given(params=PARAMS)
def test_pages_never_answer_5xx(client, people, params):
    csm, manager, customer = people
    for user in (csm, manager):
        client.force_login(user)
        for url in (reverse("web:reports"), reverse("web:report-rows", args=["mrr"]), reverse("web:report-export"),
                    reverse("web:portfolio"), reverse("web:account", args=[customer.pk]), reverse("surveys:results")):  # fmt: skip
            response = client.get(url, params)
            assert response.status_code < 500, (url, params)


@PROFILE
@given(title=VALUES, due_on=VALUES, body=VALUES)
def test_refused_notes_and_tasks_change_nothing(client, people, title, due_on, body):
    csm, _manager, customer = people
    client.force_login(csm)
    tasks, notes = Task.objects.count(), Note.objects.count()
    response = client.post(reverse("web:task-create", args=[customer.pk]), {"title": title, "due_on": due_on})
    assert response.status_code < 500
    if response.status_code == 400:
        assert Task.objects.count() == tasks
    response = client.post(reverse("web:note-create", args=[customer.pk]), {"body": body})
    assert response.status_code < 500
    if response.status_code == 400:
        assert Note.objects.count() == notes


@PROFILE
@given(body=st.dictionaries(st.sampled_from(["opened_at", "resolved_at", "external_id", "subject", "customer",
                                             "contacts_count", "first_response_at"]), VALUES, max_size=6))  # fmt: skip
def test_refused_api_writes_change_nothing(people, body):
    csm, _manager, customer = people
    before = customer.tickets.count()
    response = client_for(csm).post(f"{API}tickets/", {"customer": customer.pk, **body}, format="json")
    assert response.status_code < 500, (body, response.content[:300])
    if response.status_code >= 400:
        assert customer.tickets.count() == before


@pytest.mark.parametrize("url", ["/", "/reports/", "/s/results/", "/api/v1/customers/"])
def test_a_nul_in_a_query_parameter_is_a_400(client, csm, url):
    client.force_login(csm)
    assert client.get(url, {"segment": "a\x00b"}).status_code == 400
