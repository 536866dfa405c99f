"""Churn pages for every role: the model card (all read, admins train and publish), an account's churn risk
(own portfolio for CSMs), MRR at risk on the portfolio and the team report, and the navigation."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from churn.models import ChurnModel
from metrics.models import UserDayActivity
from tests.churn_support import stored_model
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory, TicketFactory


@pytest.fixture
def customer(db, csm):
    """A monthly customer of the CSM who used the product little lately and has two open tickets."""
    today = timezone.localdate()
    customer = CustomerFactory(owner=csm, name="Acme")
    SubscriptionFactory(customer=customer, started_at=today - datetime.timedelta(days=300), mrr=Decimal(400))
    contacts = [ContactFactory(customer=customer) for _ in range(3)]
    for n in range(1, 40):
        UserDayActivity.objects.create(customer=customer, contact=contacts[n % 3], day=today - datetime.timedelta(days=n + 25),
                                       events=4)
    for n in range(2):
        TicketFactory(customer=customer, opened_at=timezone.now() - datetime.timedelta(days=5 + n))
    return customer


@pytest.fixture
def other(db, outsider):
    customer = CustomerFactory(owner=outsider, name="Other")
    SubscriptionFactory(customer=customer, started_at=timezone.localdate() - datetime.timedelta(days=100))
    return customer


@pytest.fixture
def model(db):
    return stored_model()


def _as(client, user):
    client.force_login(user)
    return client


# --- The model card -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["csm", "manager", "admin_user"])
def test_every_role_reads_the_model_card(client, request, model, who):
    page = _as(client, request.getfixturevalue(who)).get("/churn/model/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Churn model v1" in content and 'id="auc-model"' in content and 'id="calibration-table"' in content
    assert "What the model learned" in content and "Active days per known user" in content
    assert ("Train a new version" in content) == (who == "admin_user")


def test_anonymous_users_are_sent_to_log_in(client, customer, model):
    for url in ("/churn/model/", f"/customers/{customer.pk}/churn/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_card_says_when_nothing_was_trained_and_refuses_unknown_versions(client, csm):
    page = _as(client, csm).get("/churn/model/")
    assert b"No version has been trained yet" in page.content
    assert client.get("/churn/model/?version=7").status_code == 404


@pytest.mark.parametrize("who", ["csm", "manager"])
@pytest.mark.parametrize("action", ["train", "publish", "backtest"])
def test_only_admins_train_publish_or_backtest(client, request, db, who, action):
    draft = stored_model(status=ChurnModel.Status.DRAFT, qualifies=True)
    response = _as(client, request.getfixturevalue(who)).post("/churn/model/", {"action": action, "version": 1})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft" and ChurnModel.objects.count() == 1


def test_an_admin_publishes_a_qualifying_draft(client, db, admin_user):
    draft = stored_model(status=ChurnModel.Status.DRAFT, qualifies=True)
    response = _as(client, admin_user).post("/churn/model/", {"action": "publish", "version": 1}, follow=True)
    assert b"is published" in response.content
    draft.refresh_from_db()
    assert draft.status == "published" and draft.published_by == admin_user


def test_a_draft_that_does_not_beat_the_health_score_stays_a_draft(client, admin_user):
    draft = stored_model(status=ChurnModel.Status.DRAFT, qualifies=False)
    page = _as(client, admin_user).get("/churn/model/?version=1")
    assert b"Not published: it does not beat the health score" in page.content
    assert b'value="publish"' not in page.content
    response = client.post("/churn/model/", {"action": "publish", "version": 1}, follow=True)
    assert b"cannot be published" in response.content
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_an_admin_starts_training_which_says_why_it_cannot_run_yet(client, admin_user, caplog, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _as(client, admin_user).post("/churn/model/", {"action": "train"}, follow=True)
    assert b"Training a new version in the background" in response.content
    assert "churn model not trained: no dates with a known outcome yet" in caplog.text  # an empty database
    assert not ChurnModel.objects.exists()


@pytest.mark.django_db
def test_the_model_card_posts_need_a_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/churn/model/", {"action": "train"}).status_code == 403


# --- An account's churn risk ------------------------------------------------------------------


def test_a_csm_sees_the_risk_and_its_drivers_of_an_own_customer(client, csm, customer, model):
    page = _as(client, csm).get(f"/customers/{customer.pk}/churn/")
    content = page.content.decode()
    assert page.status_code == 200 and 'id="churn-drivers"' in content
    assert "MRR at risk" in content and "Computed now by churn model v1" in content
    assert "Open tickets" in content  # two open tickets: above the typical customer's


def test_a_csm_does_not_see_the_risk_of_another_portfolio(client, csm, other, model):
    assert _as(client, csm).get(f"/customers/{other.pk}/churn/").status_code == 404


def test_a_manager_reads_the_risk_of_any_customer(client, manager, other, customer, model):
    for account in (customer, other):
        assert _as(client, manager).get(f"/customers/{account.pk}/churn/").status_code == 200


def test_htmx_gets_the_risk_section_alone(client, csm, customer, model):
    page = _as(client, csm).get(f"/customers/{customer.pk}/churn/", HTTP_HX_REQUEST="true")
    content = page.content.decode()
    assert content.lstrip().startswith('<section id="churn-risk"') and "<html" not in content


def test_without_a_published_model_the_section_says_so(client, csm, customer):
    page = _as(client, csm).get(f"/customers/{customer.pk}/churn/")
    assert b"No churn model is published yet" in page.content


def test_a_day_before_the_customer_paid_has_no_risk(client, csm, customer, model):
    day = (timezone.localdate() - datetime.timedelta(days=320)).isoformat()
    page = _as(client, csm).get(f"/customers/{customer.pk}/churn/?as_of={day}")
    assert b"Not a paying customer on" in page.content


def test_the_account_page_loads_the_risk_section(client, csm, customer, model):
    page = _as(client, csm).get(f"/customers/{customer.pk}/")
    assert f'hx-get="/customers/{customer.pk}/churn/"'.encode() in page.content


# --- Portfolio, team report, navigation ----------------------------------------------------


def test_the_portfolio_shows_churn_risk_and_mrr_at_risk_once_a_model_is_published(client, csm, customer):
    page = _as(client, csm).get("/")
    assert b"MRR at risk" not in page.content
    stored_model()
    page = client.get("/?sort=-churn")
    content = page.content.decode()
    assert 'id="mrr-at-risk"' in content and "Churn risk" in content and "risk-" in content
    export = client.get("/portfolio.csv").content.decode()
    assert "churn_probability,mrr_at_risk" in export.splitlines()[0]


def test_the_team_report_shows_mrr_at_risk_per_csm_to_managers(client, manager, csm, customer, model):
    page = _as(client, manager).get("/reports/?scope=company")
    content = page.content.decode()
    assert 'id="report-mrr-at-risk"' in content and 'id="churn-per-csm"' in content
    assert 'id="churn-per-csm"' not in _as(client, csm).get("/reports/").content.decode()


@pytest.mark.parametrize("who", ["csm", "manager", "admin_user"])
def test_the_navigation_links_the_churn_model(client, request, who):
    page = _as(client, request.getfixturevalue(who)).get("/tasks/")
    assert b'href="/churn/model/"' in page.content


def test_the_card_lists_later_backtests_and_a_model_without_a_regression(client, manager):
    from churn.models import ChurnBacktest

    model = stored_model()
    ChurnBacktest.objects.create(model=model, start=model.test_start, end=model.test_end, evaluation=model.evaluation)
    content = _as(client, manager).get("/churn/model/").content.decode()
    assert 'id="backtests"' in content and "Backtests since training" in content
    rate_only = {**model.params, "parts": {"due": {"kind": "rate", "rate": 0.05, "rows": 40, "churned": 2,
                                                   "churned_customers": 2}}}  # fmt: skip
    stored_model(version=2, status=ChurnModel.Status.DRAFT, params=rate_only, qualifies=False)
    content = client.get("/churn/model/?version=2").content.decode()
    assert "Too few customers stopped paying in the training dates for a regression" in content


def test_an_admin_backtest_runs_in_the_background_and_says_why_it_cannot_yet(
    client, admin_user, caplog, django_capture_on_commit_callbacks
):
    stored_model()
    with django_capture_on_commit_callbacks(execute=True):
        response = _as(client, admin_user).post("/churn/model/", {"action": "backtest", "version": 1}, follow=True)
    assert b"Backtesting in the background" in response.content
    assert "not backtested: no dates after the model's training whose outcome is known yet" in caplog.text
