"""Health and alert pages and the health endpoint, for every role: csm, outsider, manager, admin, anonymous."""

import datetime

import pytest

from alerts.models import AlertRule, Playbook, PlaybookRun, PlaybookStep
from metrics.health_versions import default_model, model_version_create
from metrics.models import BacktestRun, CsmRating, HealthModel
from tests.factories import CustomerFactory, SubscriptionFactory

D = datetime.date


@pytest.fixture
def customer(db, csm):
    customer = CustomerFactory(owner=csm, name="Acme")
    SubscriptionFactory(customer=customer, started_at=D(2023, 1, 1))
    return customer


@pytest.fixture
def rule(db):
    return AlertRule.objects.create(name="Old tickets", kind="ticket_open", threshold=14)


def _get(client, user, url, **headers):
    if user:
        client.force_login(user)
    return client.get(url, **headers)


# --- Backtest: admins only ----------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("manager", 403), ("csm", 403), ("outsider", 403)])
def test_only_admins_see_the_backtest(client, request, customer, who, status):
    assert _get(client, request.getfixturevalue(who), "/health/backtest/").status_code == status


def test_anonymous_users_are_sent_to_log_in(client, customer, rule):
    for url in ("/health/backtest/", "/health/changes/", "/alerts/rules/", f"/alerts/rules/{rule.pk}/",
                f"/customers/{customer.pk}/health/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_admin_runs_a_backtest_then_publishes_the_draft(client, admin_user, customer):
    default_model()
    draft = model_version_create(weights={"frequency": 1})
    client.force_login(admin_user)
    page = client.get(f"/health/backtest/?version={draft.pk}")
    assert b"Run a backtest of this version before you can publish it" in page.content
    response = client.post("/health/backtest/", {"version": draft.pk, "months": 3, "action": "run"})
    assert response.status_code == 302 and BacktestRun.objects.filter(model=draft).count() == 1
    page = client.get(f"/health/backtest/?version={draft.pk}")
    assert b"ROC AUC" in page.content and b"Publish" in page.content and b'id="component-table"' in page.content
    client.post("/health/backtest/", {"version": draft.pk, "action": "publish"})
    draft.refresh_from_db()
    assert draft.status == "published"


def test_publishing_without_a_backtest_is_refused(client, admin_user, customer):
    default_model()
    draft = model_version_create(weights={"frequency": 1})
    client.force_login(admin_user)
    response = client.post("/health/backtest/", {"version": draft.pk, "action": "publish"}, follow=True)
    assert b"run a backtest" in response.content
    assert HealthModel.objects.get(pk=draft.pk).status == "draft"


# --- Health changes: everybody, their own customers ---------------------------------------


@pytest.mark.parametrize("who", ["admin_user", "manager", "csm", "outsider"])
def test_everybody_has_a_health_changes_feed(client, request, customer, who):
    response = _get(client, request.getfixturevalue(who), "/health/changes/")
    assert response.status_code == 200 and b'id="health-changes"' in response.content


# --- Alert rules: admins write, managers read -------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("manager", 200), ("csm", 403), ("outsider", 403)])
def test_rules_are_read_by_admins_and_managers(client, request, rule, who, status):
    user = request.getfixturevalue(who)
    assert _get(client, user, "/alerts/rules/").status_code == status
    assert _get(client, user, f"/alerts/rules/{rule.pk}/").status_code == status


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("manager", 403), ("csm", 403), ("outsider", 403)])
def test_only_admins_add_dry_run_or_switch_rules(client, request, rule, who, status):
    client.force_login(request.getfixturevalue(who))
    before = AlertRule.objects.count()
    assert client.post(f"/alerts/rules/{rule.pk}/", {"weeks": 4}).status_code == status
    assert client.post(f"/alerts/rules/{rule.pk}/enabled/", {"enabled": "0"}).status_code in (status, 302)
    added = client.post("/alerts/rules/", {"name": "New", "kind": "renewal", "threshold": 60})
    assert added.status_code == (302 if status == 200 else 403)
    rule.refresh_from_db()
    if status == 403:  # a refused write changes nothing
        assert rule.dry_run_at is None and AlertRule.objects.count() == before


def test_a_manager_sees_no_rule_controls(client, manager, rule):
    for url in ("/alerts/rules/", f"/alerts/rules/{rule.pk}/"):
        html = _get(client, manager, url).content.decode()
        assert 'method="post"' not in html.split("</header>", 1)[1]  # only the language and logout forms


def test_an_admin_adds_a_rule_dry_runs_and_enables_it(client, admin_user, customer):
    client.force_login(admin_user)
    response = client.post("/alerts/rules/", {"name": "Renewals", "kind": "renewal", "threshold": 60, "send_email": "on"})
    rule = AlertRule.objects.get()
    assert response["Location"] == f"/alerts/rules/{rule.pk}/"
    client.post(f"/alerts/rules/{rule.pk}/enabled/", {"enabled": "1"})
    rule.refresh_from_db()
    assert not rule.enabled  # not before a dry run
    page = client.post(f"/alerts/rules/{rule.pk}/", {"weeks": 8}, HTTP_HX_REQUEST="true")
    body = page.content.decode()
    assert '<div id="dry-run">' in body and "<html" not in body  # the partial only, and the Enable button out of band
    assert body.lstrip().startswith('<div id="rule-actions" class="head-actions" hx-swap-oob="true">')
    assert b'id="dry-tasks"' in page.content and b'id="dry-load"' in page.content
    client.post(f"/alerts/rules/{rule.pk}/enabled/", {"enabled": "1"})
    rule.refresh_from_db()
    assert rule.enabled and rule.dry_run_at


def test_the_rules_list_partial_for_htmx(client, admin_user, rule):
    response = _get(client, admin_user, "/alerts/rules/", HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<section id="rule-list"')
    assert b"Old tickets" in response.content


# --- The account's health section ----------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("manager", 200), ("csm", 200), ("outsider", 404)])
def test_the_account_health_section_follows_the_portfolio(client, request, customer, who, status):
    assert _get(client, request.getfixturevalue(who), f"/customers/{customer.pk}/health/").status_code == status


def test_a_csm_starts_a_playbook_and_rates_the_customer(client, csm, outsider, customer):
    playbook = Playbook.objects.create(name="Rescue")
    PlaybookStep.objects.create(playbook=playbook, position=0, kind="task", title="Call them", days=1)
    client.force_login(outsider)
    assert client.post(f"/customers/{customer.pk}/health/playbooks/", {"playbook": playbook.pk}).status_code == 404
    assert client.post(f"/customers/{customer.pk}/health/rating/", {"rating": 1, "comment": "x"}).status_code == 404
    client.force_login(csm)
    response = client.post(f"/customers/{customer.pk}/health/playbooks/", {"playbook": playbook.pk}, HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<section id="account-health"')
    assert b"Rescue" in response.content and b"task created" in response.content
    assert PlaybookRun.objects.get().status == "done"
    response = client.post(f"/customers/{customer.pk}/health/rating/", {"rating": 2, "comment": "Champion left"})
    assert response.status_code == 302
    rating = CsmRating.objects.get()
    assert (rating.rating, rating.author, rating.expires_on - rating.created_at.date()) == (2, csm, datetime.timedelta(days=90))


def test_a_manager_neither_starts_playbooks_nor_rates_and_sees_no_such_controls(client, manager, customer):
    playbook = Playbook.objects.create(name="Rescue")
    PlaybookStep.objects.create(playbook=playbook, position=0, kind="task", title="Call them", days=1)
    client.force_login(manager)
    html = client.get(f"/customers/{customer.pk}/health/").content.decode()
    assert "Start playbook" not in html and "Save rating" not in html
    assert client.post(f"/customers/{customer.pk}/health/playbooks/", {"playbook": playbook.pk}).status_code == 403
    assert client.post(f"/customers/{customer.pk}/health/rating/", {"rating": 1, "comment": "x"}).status_code == 403
    assert not PlaybookRun.objects.exists() and not CsmRating.objects.exists()


# --- GET /api/v1/customers/{id}/health/ ---------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("manager", 200), ("csm", 200), ("outsider", 404)])
def test_the_health_endpoint_follows_the_portfolio(client, request, customer, who, status):
    response = _get(client, request.getfixturevalue(who), f"/api/v1/customers/{customer.pk}/health/?at=2024-03-01")
    assert response.status_code == status


def test_the_health_endpoint_for_anonymous_is_401_or_403(client, customer):
    assert client.get(f"/api/v1/customers/{customer.pk}/health/").status_code in (401, 403)


def test_the_health_endpoint_returns_components_and_version(client, csm, customer):
    client.force_login(csm)
    body = client.get(f"/api/v1/customers/{customer.pk}/health/?at=2024-03-01").json()
    assert body["definition_version"] == "health-v1"
    assert set(body["components"]) == {"frequency", "breadth", "depth", "sentiment", "support", "growth"}
    assert set(body["components"]["growth"]) == {"score", "weight", "inputs"}
    assert body["components"]["growth"]["score"] == "50.0" and body["band"] == "neutral"
    assert client.get(f"/api/v1/customers/{customer.pk}/health/?at=garbage").status_code == 400


def test_the_csm_rating_has_no_preselected_score(client, csm, customer):
    from web.alert_forms import CsmRatingForm

    client.force_login(csm)
    html = client.get(f"/customers/{customer.pk}/health/").content.decode()
    select = html.split('name="rating"')[1].split("</select>")[0]
    assert 'value="" selected' in select and 'value="1" selected' not in select
    form = CsmRatingForm({"rating": "", "comment": "x"})
    assert not form.is_valid() and "rating" in form.errors
    assert not CsmRating.objects.exists()
