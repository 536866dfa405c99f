"""A refused request changes nothing, and a date outside the accepted window is a 400 (never a 500).

Each finding of issue 12 that is about writes: a 400 that had saved anyway, a refused
owner change that created a user, answers given through a survey link changed by staff,
dates of year 1 or 9999 that crashed reports, KPI endpoints and pages.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Customer, Subscription, Ticket
from importing.runner import import_file
from surveys.models import SurveyResponse
from tests import factories as f
from tests.api_support import API, client_for, fresh_throttles, make_world  # noqa: F401
from tests.surveys_support import InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]
WINDOW = "outside the dates this app accepts (1900-01-01 to 2199-12-31)"


def users_named(name):
    return get_user_model().objects.filter(username=name).count()


# --- An owner that does not exist yet ----------------------------------------------------


def test_a_csm_naming_an_unknown_owner_gets_a_400_and_creates_nobody(csm):
    world = make_world(owner=csm)
    response = client_for(csm).patch(f"{API}customers/{world.customer.pk}/", {"csm": "ghost"}, format="json")
    assert response.status_code == 400 and "csm" in response.json()
    assert users_named("ghost") == 0
    world.customer.refresh_from_db()
    assert world.customer.owner == csm


def test_an_admin_refused_for_another_field_creates_nobody(admin_user, csm):
    world = make_world(owner=csm)
    body = {"csm": "ghost", "country": "Germany"}
    response = client_for(admin_user).patch(f"{API}customers/{world.customer.pk}/", body, format="json")
    assert response.status_code == 400 and "country" in response.json()
    assert users_named("ghost") == 0


def test_an_admin_naming_an_unknown_owner_creates_a_csm_login_without_password(admin_user, csm):
    world = make_world(owner=csm)
    response = client_for(admin_user).patch(f"{API}customers/{world.customer.pk}/", {"csm": "ghost"}, format="json")
    assert response.status_code == 200, response.content
    ghost = get_user_model().objects.get(username="ghost")
    assert list(ghost.groups.values_list("name", flat=True)) == ["csm"] and not ghost.has_usable_password()
    assert Customer.objects.get(pk=world.customer.pk).owner == ghost


def test_an_import_skipping_a_bad_row_creates_no_owner_for_it(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,name,country,csm\nC1,Good,DE,newbie\nC2,Bad,Germany,ghost\n")
    result = import_file("customers", path, skip_errors=True)
    assert [(e.line, e.column) for e in result.errors] == [(3, "country")]
    assert users_named("newbie") == 1 and users_named("ghost") == 0
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C1"]


def test_a_dry_run_creates_no_owner(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,name,csm\nC1,Good,newbie\n")
    result = import_file("customers", path, dry_run=True)
    assert result.created == 1 and users_named("newbie") == 0


# --- Dates outside the window: refused, nothing saved or deleted --------------------------


@pytest.mark.parametrize(
    ("resource", "body"),
    [
        ("tickets", {"external_id": "T-FAR", "opened_at": "9999-12-31T23:59:59Z"}),
        ("tickets", {"external_id": "T-OLD", "opened_at": "0001-01-01T00:00:00Z"}),
        ("subscriptions", {"plan": "Far", "started_at": "2024-01-01", "ended_at": "9999-12-31", "mrr": "10"}),
        ("subscriptions", {"plan": "Old", "started_at": "0001-01-01", "mrr": "10"}),
    ],
)
def test_a_write_with_a_date_outside_the_window_is_a_400_and_saves_nothing(csm, resource, body):
    world = make_world(owner=csm)
    before = (Ticket.objects.count(), Subscription.objects.count())
    response = client_for(csm).post(f"{API}{resource}/", {"customer": world.customer.pk, **body}, format="json")
    assert response.status_code == 400
    assert WINDOW in str(response.json())
    assert (Ticket.objects.count(), Subscription.objects.count()) == before


def test_changing_a_ticket_to_year_9999_is_a_400_and_changes_nothing(csm):
    world = make_world(owner=csm)
    opened = world.ticket.opened_at
    response = client_for(csm).patch(f"{API}tickets/{world.ticket.pk}/", {"opened_at": "9999-12-31T23:59:59Z"}, format="json")
    assert response.status_code == 400
    world.ticket.refresh_from_db()
    assert world.ticket.opened_at == opened


def test_a_stored_far_future_row_can_still_be_deleted(csm):
    """Rows stored before the window existed: deleting one either works or changes nothing."""
    world = make_world(owner=csm)
    far = f.TicketFactory(customer=world.customer, opened_at=datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC))
    response = client_for(csm).delete(f"{API}tickets/{far.pk}/")
    assert response.status_code in (204, 400)
    assert Ticket.objects.filter(pk=far.pk).exists() is (response.status_code == 400)


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01", "end": "2024-01-01"},
        {"start": "2024-01-01", "end": "9999-12-31"},
        {"start": "9999-12-01", "end": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("path", ["kpis/", "kpis/series/", "kpis/mrr/rows/", "kpis/nps/rows/"])
def test_kpi_endpoints_refuse_dates_outside_the_window(csm, path, query):
    response = client_for(csm).get(f"{API}{path}", query)
    assert response.status_code == 400
    assert WINDOW in str(response.json())


def test_the_health_endpoint_refuses_a_day_outside_the_window(csm):
    world = make_world(owner=csm)
    response = client_for(csm).get(f"{API}customers/{world.customer.pk}/health/", {"at": "9999-12-31"})
    assert response.status_code == 400 and WINDOW in str(response.json())


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01", "end": "2024-01-01", "scope": "company"},
        {"start": "2024-01-01", "end": "9999-12-31", "scope": "company"},
        {"month": "9999-12", "scope": "company"},
        {"month": "0001-01", "scope": "company"},
        {"as_of": "0001-01-01"},
    ],
)
@pytest.mark.parametrize("name", ["web:reports", "web:report-export", "web:report-rows"])
def test_report_pages_answer_dates_outside_the_window_without_crashing(client, manager, name, query):
    client.force_login(manager)
    url = reverse(name, args=["mrr"]) if name == "web:report-rows" else reverse(name)
    response = client.get(url, query)
    assert response.status_code in (200, 400, 404)  # the page with the form's error, or no rows to show
    if name == "web:reports" and "as_of" not in query:
        assert response.status_code == 400 and WINDOW in response.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
@pytest.mark.parametrize("page", ["web:account", "alerts:account-health", "churn:account-risk"])
def test_as_of_pages_show_today_with_the_error_for_a_day_outside_the_window(client, csm, page, day):
    customer = f.CustomerFactory(owner=csm)
    client.force_login(csm)
    response = client.get(reverse(page, args=[customer.pk]), {"as_of": day})
    assert response.status_code == 200
    assert WINDOW in response.content.decode() or page != "web:account"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_survey_results_refuse_a_day_outside_the_window(client, manager, day):
    client.force_login(manager)
    response = client.get(reverse("surveys:results"), {"start": day, "end": day})
    assert response.status_code == 200 and WINDOW in response.content.decode()


def test_a_task_due_in_year_9999_is_a_form_error(client, csm):
    customer = f.CustomerFactory(owner=csm)
    client.force_login(csm)
    response = client.post(reverse("web:task-create", args=[customer.pk]), {"title": "Far", "due_on": "9999-12-31"})
    assert response.status_code == 400 and not customer.tasks.exists()
    response = client_for(csm).post(f"{API}tasks/", {"customer": customer.pk, "title": "Far", "due_on": "9999-12-31"}, format="json")
    assert response.status_code == 400 and not customer.tasks.exists()


# --- Answers given through a survey link --------------------------------------------------


@pytest.fixture
def linked_answer(csm):
    customer = f.CustomerFactory(owner=csm)
    invitation = InvitationFactory(contact=f.ContactFactory(customer=customer))
    return f.SurveyResponseFactory(customer=customer, contact=invitation.contact, invitation=invitation, comment="Mine")


@pytest.mark.parametrize("persona", ["csm", "admin_user"])
def test_staff_cannot_change_or_delete_an_answer_given_through_the_link(request, linked_answer, persona):
    client = client_for(request.getfixturevalue(persona))
    url = f"{API}survey-responses/{linked_answer.pk}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"comment": "Edited", "score": 0}, format="json")
    assert response.status_code == 403 and "survey link" in response.json()["detail"]
    assert client.put(url, {"customer": linked_answer.customer_id, "survey_type": "nps", "score": 0,
                            "responded_at": "2024-01-01T00:00:00Z"}, format="json").status_code == 403  # fmt: skip
    assert client.delete(url).status_code == 403
    linked_answer.refresh_from_db()
    assert (linked_answer.comment, linked_answer.score) == ("Mine", 9)


def test_an_imported_answer_may_be_corrected_by_its_csm(csm):
    answer = f.SurveyResponseFactory(customer=f.CustomerFactory(owner=csm), comment="Typo")
    response = client_for(csm).patch(f"{API}survey-responses/{answer.pk}/", {"comment": "Fixed"}, format="json")
    assert response.status_code == 200
    assert SurveyResponse.objects.get(pk=answer.pk).comment == "Fixed"


# --- Other inputs -----------------------------------------------------------------------


def test_a_bad_snapshot_cursor_is_a_400_naming_it(csm):
    response = client_for(csm).get(f"{API}kpi-snapshots/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400 and "cursor" in response.json()
