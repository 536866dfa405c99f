"""The CSM web app: who sees what, HTMX fragments, no-JS fallbacks, fixed query counts."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Note, Task
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    NoteFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
    UserDayActivityFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2024, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def portfolio(csm, outsider):
    """Two customers of `csm` (one at risk, one renewing soon) and one of `outsider`."""
    mine = CustomerFactory(name="Acme GmbH", segment="SMB", owner=csm)
    # Annual base plans renew on their anniversary (Acme 2025-01-01, Beta 2024-06-01); the add-on ends sooner.
    SubscriptionFactory(customer=mine, mrr=Decimal("1000"), started_at=datetime.date(2023, 1, 1), billing_period_months=12)
    SubscriptionFactory(customer=mine, plan="Addon", mrr=Decimal("250"), started_at=datetime.date(2024, 3, 1),
                        ended_at=datetime.date(2024, 4, 10))  # fmt: skip
    contact = ContactFactory(customer=mine)
    UserDayActivityFactory(customer=mine, contact=contact, day=datetime.date(2024, 3, 10))
    TicketFactory(customer=mine, subject="Export broken")
    SurveyResponseFactory(customer=mine, contact=contact, score=3, comment="Too slow",
                          responded_at=NOW - datetime.timedelta(days=5))  # fmt: skip
    TaskFactory(customer=mine, assignee=csm, title="Call the champion", due_on=datetime.date(2024, 3, 1))
    other_mine = CustomerFactory(name="Beta AG", segment="Enterprise", owner=csm)
    SubscriptionFactory(customer=other_mine, mrr=Decimal("5000"), started_at=datetime.date(2023, 6, 1), billing_period_months=12)
    theirs = CustomerFactory(name="Gamma Ltd", segment="SMB", owner=outsider)
    SubscriptionFactory(customer=theirs, mrr=Decimal("700"), started_at=datetime.date(2023, 6, 1))
    return {"mine": mine, "other_mine": other_mine, "theirs": theirs}


def _urls(portfolio, task):
    mine = portfolio["mine"].pk
    return [
        ("get", reverse("web:portfolio")),
        ("get", reverse("web:portfolio-export")),
        ("get", reverse("web:account", args=[mine])),
        ("get", reverse("web:account-timeline", args=[mine])),
        ("post", reverse("web:note-create", args=[mine])),
        ("post", reverse("web:task-create", args=[mine])),
        ("post", reverse("web:task-complete", args=[task.pk])),
        ("get", reverse("web:tasks")),
        ("get", reverse("web:reports")),
        ("get", reverse("web:report-export")),
        ("get", reverse("web:report-rows", args=["mrr"]) + "?start=2024-02-01&end=2024-03-01&scope=company"),
        ("get", reverse("web:profile")),
        ("post", reverse("web:token")),
    ]


def test_every_page_sends_anonymous_users_to_login(client, portfolio):
    task = Task.objects.get(title="Call the champion")
    for method, url in _urls(portfolio, task):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("persona", ["csm", "manager", "admin_user"])
def test_every_page_renders_for_each_role(client, portfolio, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for method, url in _urls(portfolio, Task.objects.get(title="Call the champion")):
        if method == "get":
            assert client.get(url).status_code in (200, 302), url


def test_login_page_logs_in_and_logout_needs_post(client, csm):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "carla", "password": "pw-Secret-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("web:portfolio")).status_code == 302


def test_password_change_page_renders(client, csm):
    client.force_login(csm)
    response = client.get(reverse("password_change"))
    assert response.status_code == 200 and b"new_password1" in response.content


def test_language_switch_turns_the_ui_german(client, csm):
    client.force_login(csm)
    response = client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert 'lang="de"' in client.get("/").content.decode()


# --- Portfolio --------------------------------------------------------------------------


def test_csm_portfolio_lists_only_their_customers(client, csm, portfolio):
    client.force_login(csm)
    html = client.get(reverse("web:portfolio")).content.decode()
    assert "Acme GmbH" in html and "Beta AG" in html
    assert "Gamma Ltd" not in html


def test_manager_sees_the_whole_team_and_can_pick_a_csm(client, manager, portfolio):
    client.force_login(manager)
    html = client.get(reverse("web:portfolio")).content.decode()
    assert all(name in html for name in ("Acme GmbH", "Beta AG", "Gamma Ltd"))
    html = client.get(reverse("web:portfolio"), {"csm": "otto"}).content.decode()
    assert "Gamma Ltd" in html and "Acme GmbH" not in html


def test_portfolio_row_shows_mrr_change_renewal_activity_tickets_nps_and_tasks(client, csm, portfolio):
    client.force_login(csm)
    response = client.get(reverse("web:portfolio"), {"q": "acme"})
    row = next(r for r in response.context["rows"] if r.customer.name == "Acme GmbH")
    assert row.mrr == Decimal("1250") and row.mrr_before == Decimal("1000") and row.mrr_change == Decimal("250")
    assert row.renewal_on == datetime.date(2024, 4, 10)
    assert row.last_activity_on == datetime.date(2024, 3, 10)
    assert (row.open_tickets, row.latest_nps, row.open_tasks) == (1, 3, 1)
    html = response.content.decode()
    assert "€1,250" in html and "+€250" in html and "10 Apr 2024" in html


def test_portfolio_search_segment_band_and_renewal_filters(client, csm, portfolio):
    client.force_login(csm)

    def names(**params):
        return [r.customer.name for r in client.get(reverse("web:portfolio"), params).context["rows"]]

    assert names(q="beta") == ["Beta AG"]
    assert names(segment="Enterprise") == ["Beta AG"]
    assert names(renewal="30") == ["Acme GmbH"]
    assert names(renewal="90") == ["Acme GmbH", "Beta AG"]  # Beta's derived anniversary, 2024-06-01
    band_of_beta = client.get(reverse("web:portfolio"), {"q": "beta"}).context["rows"][0].band
    assert "Beta AG" in names(band=band_of_beta or "none")
    assert names(sort="-mrr") == ["Beta AG", "Acme GmbH"]
    assert names(sort="name") == ["Acme GmbH", "Beta AG"]


def test_portfolio_htmx_request_gets_only_the_table(client, csm, portfolio):
    client.force_login(csm)
    html = client.get(reverse("web:portfolio"), {"q": "acme"}, **HX).content.decode()
    assert html.lstrip().startswith('<section id="portfolio-table"')
    assert "<html" not in html and "Acme GmbH" in html
    full = client.get(reverse("web:portfolio"), {"q": "acme"}).content.decode()
    assert "<html" in full and 'id="portfolio-filters"' in full


def test_portfolio_filter_form_works_without_javascript(client, csm, portfolio):
    client.force_login(csm)
    html = client.get(reverse("web:portfolio")).content.decode()
    form = re.search(r'<form id="portfolio-filters"[^>]*>', html).group(0)
    assert 'method="get"' in form and 'action="/"' in form and 'hx-get="/"' in form and 'hx-push-url' in html
    assert re.search(r'<a href="\?[^"]*sort=', html)  # sort links keep their href


def test_portfolio_paginates(client, csm):
    CustomerFactory.create_batch(30, owner=csm)
    client.force_login(csm)
    first = client.get(reverse("web:portfolio"))
    assert len(first.context["rows"]) == 25 and first.context["total"] == 30
    assert len(client.get(reverse("web:portfolio"), {"page": 2}).context["rows"]) == 5


def _portfolio_with(n, owner):
    for _ in range(n):
        customer = CustomerFactory(owner=owner)
        SubscriptionFactory(customer=customer, ended_at=datetime.date(2024, 6, 1))
        contact = ContactFactory(customer=customer)
        UserDayActivityFactory(customer=customer, contact=contact, day=datetime.date(2024, 3, 1))
        TicketFactory(customer=customer)
        SurveyResponseFactory(customer=customer, contact=contact, responded_at=NOW - datetime.timedelta(days=3))
        TaskFactory(customer=customer, assignee=owner)


@pytest.mark.parametrize("persona", ["csm", "manager"])
def test_portfolio_runs_a_fixed_number_of_queries(client, persona, request, django_assert_num_queries, csm):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    _portfolio_with(3, csm)
    client.get(reverse("web:portfolio"))  # the first view of the day stores the scores (and publishes health v1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("web:portfolio"), {"sort": "health"}).status_code == 200
    _portfolio_with(27, csm)
    with CaptureQueriesContext(connection) as scoring_27:  # 27 customers without a stored score of today
        client.get(reverse("web:portfolio"), {"sort": "health"})
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("web:portfolio"), {"sort": "health"})
    assert response.context["total"] == 30
    _portfolio_with(1, csm)
    with django_assert_num_queries(len(scoring_27.captured_queries)):  # storing 1 or 27 missing scores costs the same
        client.get(reverse("web:portfolio"), {"sort": "health"})


def test_portfolio_csv_export_neutralises_formulas(client, csm):
    CustomerFactory(name="=HYPERLINK(\"http://evil\")", owner=csm, segment="+SMB")
    CustomerFactory(name="@sum", owner=csm)
    client.force_login(csm)
    response = client.get(reverse("web:portfolio-export"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["customer", "external_id", "segment"]
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells and "'+SMB" in cells and "'@sum" in cells
    assert not any(c[:1] in "=+@" for c in cells if c)


# --- Account 360 ------------------------------------------------------------------------


def test_account_page_shows_header_health_kpis_and_history(client, csm, portfolio):
    client.force_login(csm)
    response = client.get(reverse("web:account", args=[portfolio["mine"].pk]))
    html = response.content.decode()
    account = response.context["account"]
    assert account.mrr == Decimal("1250") and account.renewal_on == datetime.date(2024, 4, 10)
    assert account.plans == ["Addon", "Pro"]
    assert set(account.kpis) >= {"mau", "dau_mau", "nps", "csat", "ces", "first_contact_resolution_rate"}
    assert len(account.mrr_series) == 13 and len(account.activity_series) == 12
    for text in ("Acme GmbH", "Frequency", "Sentiment", "Export broken", "Too slow", "Call the champion",
                 "MRR by month", "<svg", "Show as table", "Overdue"):  # fmt: skip
        assert text in html, text


def test_account_of_another_csm_is_404(client, outsider, portfolio):
    client.force_login(outsider)
    assert client.get(reverse("web:account", args=[portfolio["mine"].pk])).status_code == 404
    assert client.post(reverse("web:note-create", args=[portfolio["mine"].pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("web:task-create", args=[portfolio["mine"].pk]), {"title": "x"}).status_code == 404


def test_manager_reads_any_account_but_cannot_change_it(client, manager, portfolio):
    client.force_login(manager)
    html = client.get(reverse("web:account", args=[portfolio["mine"].pk])).content.decode()
    assert "Acme GmbH" in html and 'id="add-note"' not in html
    # A customer the manager sees but may not change: 403 (a customer one may not see is 404).
    assert client.post(reverse("web:note-create", args=[portfolio["mine"].pk]), {"body": "x"}).status_code == 403
    task = Task.objects.get(title="Call the champion")
    assert client.post(reverse("web:task-complete", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.completed_at is None and not Note.objects.filter(body="x").exists()


def test_admin_may_add_notes_anywhere(client, admin_user, portfolio):
    client.force_login(admin_user)
    response = client.post(reverse("web:note-create", args=[portfolio["theirs"].pk]), {"body": "Escalated"})
    assert response.status_code == 302
    assert Note.objects.get(customer=portfolio["theirs"]).author == admin_user


def test_adding_a_note_with_htmx_returns_the_timeline_partial(client, csm, portfolio):
    client.force_login(csm)
    url = reverse("web:note-create", args=[portfolio["mine"].pk])
    html = client.post(url, {"body": "Renewal call booked"}, **HX).content.decode()
    assert html.lstrip().startswith('<section id="activity"') and "Renewal call booked" in html
    assert "<html" not in html
    assert Note.objects.get(body="Renewal call booked").author == csm


def test_adding_a_note_without_javascript_redirects_back(client, csm, portfolio):
    client.force_login(csm)
    url = reverse("web:note-create", args=[portfolio["mine"].pk])
    response = client.post(url, {"body": "Plain form"})
    assert response.status_code == 302 and response["Location"] == reverse("web:account", args=[portfolio["mine"].pk])
    assert client.post(url, {"body": ""}).status_code == 400


def test_adding_a_task_with_htmx_returns_tasks_and_refreshes_the_timeline(client, csm, portfolio):
    client.force_login(csm)
    url = reverse("web:task-create", args=[portfolio["mine"].pk])
    response = client.post(url, {"title": "Send QBR deck", "due_on": "2024-03-20", "details": ""}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="tasks"') and "Send QBR deck" in html
    assert response["HX-Trigger"] == '{"timeline-changed": {}}' or "timeline-changed" in response["HX-Trigger"]
    task = Task.objects.get(title="Send QBR deck")
    assert task.assignee == csm and task.due_on == datetime.date(2024, 3, 20)
    timeline = client.get(reverse("web:account-timeline", args=[portfolio["mine"].pk]), **HX).content.decode()
    assert timeline.lstrip().startswith('<ol id="timeline"') and "Send QBR deck" in timeline


def test_invalid_task_with_htmx_shows_errors_in_place(client, csm, portfolio):
    client.force_login(csm)
    url = reverse("web:task-create", args=[portfolio["mine"].pk])
    html = client.post(url, {"title": ""}, **HX).content.decode()
    assert 'role="alert"' in html and not Task.objects.filter(title="").exists()


def test_completing_a_task_on_the_account_page(client, csm, portfolio):
    client.force_login(csm)
    task = Task.objects.get(title="Call the champion")
    html = client.post(reverse("web:task-complete", args=[task.pk]), {"view": "account"}, **HX).content.decode()
    assert html.lstrip().startswith('<section id="tasks"')
    task.refresh_from_db()
    assert task.completed_at is not None


def test_account_page_runs_a_fixed_number_of_queries(client, csm, django_assert_num_queries):
    client.force_login(csm)
    customer = CustomerFactory(owner=csm)

    def grow(n):
        for _ in range(n):
            contact = ContactFactory(customer=customer)
            NoteFactory(customer=customer, author=csm)
            TaskFactory(customer=customer, assignee=csm)
            TicketFactory(customer=customer, contact=contact)
            SurveyResponseFactory(customer=customer, contact=contact)
            SubscriptionFactory(customer=customer, plan=f"Plan {contact.pk}")

    grow(2)
    client.get(reverse("web:account", args=[customer.pk]))  # the first view of the day stores the health score
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("web:account", args=[customer.pk]))
    grow(18)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(reverse("web:account", args=[customer.pk])).status_code == 200


# --- Tasks ------------------------------------------------------------------------------


def test_my_tasks_lists_my_open_tasks_with_overdue_marks(client, csm, outsider, portfolio):
    TaskFactory(customer=portfolio["theirs"], assignee=outsider, title="Not mine")
    TaskFactory(customer=portfolio["mine"], assignee=csm, title="Later", due_on=datetime.date(2024, 4, 1))
    client.force_login(csm)
    html = client.get(reverse("web:tasks")).content.decode()
    assert "Call the champion" in html and "Later" in html and "Not mine" not in html
    assert html.count("pill-overdue") == 1


def test_completing_a_task_in_place_and_without_javascript(client, csm, portfolio):
    client.force_login(csm)
    task = Task.objects.get(title="Call the champion")
    html = client.post(reverse("web:task-complete", args=[task.pk]), **HX).content.decode()
    assert html.lstrip().startswith(f'<tr id="task-{task.pk}"') and "Done" in html
    other = TaskFactory(customer=portfolio["mine"], assignee=csm)
    response = client.post(reverse("web:task-complete", args=[other.pk]), {"next": "/tasks/?show=all"})
    assert response.status_code == 302 and response["Location"] == "/tasks/?show=all"
    response = client.post(reverse("web:task-complete", args=[other.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("web:tasks")


def test_tasks_htmx_request_gets_the_list_partial(client, csm, portfolio):
    client.force_login(csm)
    html = client.get(reverse("web:tasks"), {"show": "done"}, **HX).content.decode()
    assert html.lstrip().startswith('<section id="task-list"')


def test_outsider_cannot_complete_my_task(client, outsider, portfolio):
    client.force_login(outsider)
    task = Task.objects.get(title="Call the champion")
    assert client.post(reverse("web:task-complete", args=[task.pk])).status_code == 404


# --- Profile: API token -----------------------------------------------------------------


def test_token_can_be_created_rotated_and_revoked(client, csm):
    client.force_login(csm)
    url = reverse("web:token")
    html = client.post(url, {"action": "create"}, **HX).content.decode()
    key = Token.objects.get(user=csm).key
    assert html.lstrip().startswith('<section id="api-token"') and key in html
    client.post(url, {"action": "rotate"}, **HX)
    assert Token.objects.get(user=csm).key != key
    assert client.post(url, {"action": "revoke"}).status_code == 302
    assert not Token.objects.filter(user=csm).exists()
    assert client.post(url, {"action": "steal"}).status_code == 400
    assert "You have no API token" in client.get(reverse("web:profile")).content.decode()


# --- CSP: no inline scripts or styles ---------------------------------------------------


def test_pages_have_no_inline_scripts_or_style_attributes(client, csm, portfolio):
    client.force_login(csm)
    for url in (reverse("web:portfolio"), reverse("web:account", args=[portfolio["mine"].pk]),
                reverse("web:reports"), reverse("web:tasks"), reverse("web:profile")):  # fmt: skip
        html = client.get(url).content.decode()
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert 'hx-headers=\'{"X-CSRFToken":' in html, url


def test_portfolio_hides_former_customers_unless_asked(client, csm):
    current = CustomerFactory(owner=csm, name="Current Co")
    SubscriptionFactory(customer=current, started_at=datetime.date(2020, 1, 1), ended_at=None)
    former = CustomerFactory(owner=csm, name="Former Co")
    SubscriptionFactory(customer=former, started_at=datetime.date(2020, 1, 1), ended_at=datetime.date(2021, 1, 1))
    prospect = CustomerFactory(owner=csm, name="Prospect Co")  # no subscription yet: still to be looked after
    client.force_login(csm)

    def names(**params):
        return {r.customer.name for r in client.get(reverse("web:portfolio"), params).context["rows"]}

    assert names() == {current.name, prospect.name}
    assert names(status="former") == {former.name}
    assert names(status="all") == {current.name, former.name, prospect.name}
