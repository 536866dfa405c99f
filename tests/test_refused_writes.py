"""A refused request changes nothing, and a date outside the accepted window is a 400 (never a 500).

Each finding of issue 12 that is about writes: a 400 that had saved anyway, a refused
owner change that created a user, answers given through a survey link changed by staff,
dates of year 1 or 9999 that crashed reports, KPI endpoints and pages.
"""

import datetime
from decimal import Decimal

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


# --- Imports: NUL bytes, tiny amounts -------------------------------------------------------


NUL_FILES = {
    "customers": "external_id,name,segment\nC1,Good,SMB\nC2,Bad\x00Name,SMB\nC3,Also good,SMB\n",
    "tickets": "external_id,customer_external_id,opened_at,subject\nT1,C0,2024-01-01T00:00:00Z,ok\n"
    "T2,C0,2024-01-01T00:00:00Z,bad\x00subject\nT3,C0,2024-01-02T00:00:00Z,ok\n",
    "survey_responses": "customer_external_id,survey_type,score,comment,responded_at\nC0,nps,9,fine,2024-01-01T00:00:00Z\n"
    "C0,nps,3,bad\x00comment,2024-01-02T00:00:00Z\nC0,nps,8,ok,2024-01-03T00:00:00Z\n",
}


@pytest.mark.parametrize("kind", NUL_FILES)
@pytest.mark.parametrize("skip_errors", [False, True])
def test_a_nul_byte_in_a_text_cell_is_a_row_error_with_its_line(tmp_path, kind, skip_errors):
    f.CustomerFactory(external_id="C0")
    path = tmp_path / f"{kind}.csv"
    path.write_text(NUL_FILES[kind])
    result = import_file(kind, path, skip_errors=skip_errors)
    assert [e.line for e in result.errors] == [3]
    assert "NUL character" in result.errors[0].message
    assert result.created == (2 if skip_errors else 0)  # --skip-errors skips only that row


@pytest.mark.parametrize(("mrr", "message"), [("1e-30", "more than 6 decimal places"), ("0.0000001", "more than 6 decimal places")])
def test_an_mrr_too_small_to_store_is_a_row_error_not_a_silent_zero(tmp_path, mrr, message):
    f.CustomerFactory(external_id="C0")
    path = tmp_path / "subscriptions.csv"
    path.write_text(f"customer_external_id,plan,started_at,mrr\nC0,Pro,2024-01-01,{mrr}\nC0,Team,2024-01-01,0.000001\n")
    result = import_file("subscriptions", path, skip_errors=True)
    assert [(e.line, e.column) for e in result.errors] == [(2, "mrr")] and message in result.errors[0].message
    assert list(Subscription.objects.values_list("plan", "mrr")) == [("Team", Decimal("0.000001"))]


# --- Names with line breaks ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Evil\nCorp", "Evil\r\nCorp", "Evil\u2028Corp"])
def test_a_customer_name_with_a_line_break_is_refused_everywhere(tmp_path, client, admin_user, name):
    response = client_for(admin_user).post(f"{API}customers/", {"external_id": "E1", "name": name}, format="json")
    assert response.status_code == 400 and "one line" in str(response.json()["name"])
    path = tmp_path / "customers.csv"
    path.write_text(f'external_id,name\nE1,"{name}"\n', newline="")
    result = import_file("customers", path)
    assert [(e.line, e.column) for e in result.errors] == [(2, "name")]
    client.force_login(admin_user)
    page = client.post(reverse("admin:accounts_customer_add"), {"name": name, "external_id": "E1",
        "contacts-TOTAL_FORMS": 0, "contacts-INITIAL_FORMS": 0, "subscriptions-TOTAL_FORMS": 0,
        "subscriptions-INITIAL_FORMS": 0})  # fmt: skip
    assert page.status_code == 200 and "one line" in page.content.decode()
    assert not Customer.objects.exists()


def test_the_alert_email_of_a_name_with_a_line_break_is_sent_on_one_line(csm, mailoutbox):
    from alerts.models import Alert, AlertRule
    from alerts.tasks import alert_email

    customer = f.CustomerFactory(owner=csm, name="Evil\nCorp")  # stored before names were checked
    rule = AlertRule.objects.create(name="Renewal soon", kind="renewal", threshold=30, enabled=True)
    alert = Alert.objects.create(rule=rule, customer=customer, fired_on=datetime.date(2024, 3, 4), details={})
    assert alert_email(alert.pk) is True
    assert [m.subject for m in mailoutbox] == ["[csplatform] Renewal soon: Evil Corp"]


def test_an_alert_email_the_server_refused_is_claimed_again_by_its_retry(csm, monkeypatch):
    import smtplib

    from celery.exceptions import Retry

    from alerts import tasks
    from alerts.models import Alert, AlertRule

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(tasks, "send_mail", refuse)
    rule = AlertRule.objects.create(name="Renewal soon", kind="renewal", threshold=30, enabled=True)
    alert = Alert.objects.create(rule=rule, customer=f.CustomerFactory(owner=csm), fired_on=datetime.date(2024, 3, 4), details={})
    with pytest.raises((Retry, smtplib.SMTPException)):
        tasks.alert_email(alert.pk)
    alert.refresh_from_db()
    assert alert.emailed_at is None


# --- Malformed requests: a 4xx, never a 500 -----------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400(admin_user, depth):
    body = "[" * depth + "]" * depth
    response = client_for(admin_user).generic("POST", f"{API}customers/", body, content_type="application/json")
    assert response.status_code == 400 and "levels deep" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_json_nested_within_the_limit_is_judged_by_its_fields(admin_user):
    body = {"external_id": "N1", "name": [[["x"]]]}
    response = client_for(admin_user).post(f"{API}customers/", body, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("version", ["abc", "-1", "1.5", "9" * 30, "999999"])
def test_the_backtest_page_of_a_version_that_is_not_one_is_a_404(client, admin_user, version):
    client.force_login(admin_user)
    assert client.get(reverse("alerts:backtest"), {"version": version}).status_code == 404


# --- Password reset emails are rate-limited ---------------------------------------------------------


def test_password_reset_emails_are_rate_limited_per_address(client, csm, mailoutbox, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CSPLATFORM_PASSWORD_RESET_RATELIMIT = "3/h"
    statuses = [client.post(reverse("password_reset"), {"email": csm.email}).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert len(mailoutbox) == 3
    page = client.post(reverse("password_reset"), {"email": csm.email})
    assert "Too many password reset requests" in page.content.decode() and page["Retry-After"] == "3600"
    cache.clear()


def test_password_reset_requests_are_rate_limited_per_ip(client, mailoutbox, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CSPLATFORM_PASSWORD_RESET_IP_RATELIMIT = "4/h"
    statuses = [client.post(reverse("password_reset"), {"email": f"nobody{i}@example.com"}).status_code for i in range(6)]
    assert statuses == [302] * 4 + [429] * 2 and mailoutbox == []
    cache.clear()


# --- Keys of other portfolios ----------------------------------------------------------------------


def test_a_key_taken_in_another_portfolio_is_refused_without_saying_it_exists(csm, outsider):
    theirs = f.TicketFactory(customer=f.CustomerFactory(owner=outsider), external_id="T-SECRET")
    mine = f.TicketFactory(customer=f.CustomerFactory(owner=csm), external_id="T-MINE")
    client = client_for(csm)
    response = client.patch(f"{API}tickets/{mine.pk}/", {"external_id": "T-SECRET"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"external_id": ["this key cannot be used for a ticket; choose another"]}
    own = f.TicketFactory(customer=mine.customer, external_id="T-OWN")
    response = client.patch(f"{API}tickets/{mine.pk}/", {"external_id": own.external_id}, format="json")
    assert response.json() == {"external_id": ["a ticket with the same key already exists"]}
    assert Ticket.objects.get(pk=theirs.pk).external_id == "T-SECRET"


# --- Snapshot chunks: time limits and a visibility timeout that fit them ----------------------------


def test_snapshot_chunks_have_time_limits_within_the_visibility_timeout(settings):
    from metrics.tasks import health_snapshot_chunk, snapshot_chunk

    for task in (snapshot_chunk, health_snapshot_chunk):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.soft_time_limit == settings.CSPLATFORM_CHUNK_SOFT_TIME_LIMIT < task.time_limit
        assert task.time_limit == settings.CSPLATFORM_CHUNK_TIME_LIMIT


def test_the_redis_visibility_timeout_is_minutes_not_celerys_hour(monkeypatch):
    import importlib

    import csplatform.settings as project_settings

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    reloaded = importlib.reload(project_settings)
    try:
        timeout = reloaded.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert reloaded.CSPLATFORM_CHUNK_TIME_LIMIT < timeout < 3600
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)
