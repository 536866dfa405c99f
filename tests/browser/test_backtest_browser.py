"""The health backtest and alert rules in a real browser: backtest a draft, publish it, dry-run a rule."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _roles_restored(django_db_blocker):
    """Put the roles back after the last flush: they come from a data migration, and later tests expect them."""
    yield
    from django.contrib.auth.models import Group

    from accounts.roles import ROLES

    with django_db_blocker.unblock():
        for name in ROLES:
            Group.objects.get_or_create(name=name)


@pytest.fixture
def admin(demo, django_user_model):
    from django.contrib.auth.models import Group

    from tests.browser.conftest import PASSWORD

    user = django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD, first_name="Ada", is_staff=True)
    user.groups.add(Group.objects.get(name="admin"))
    return user


def test_an_admin_backtests_a_draft_and_publishes_it(page, admin, shot, login):
    from metrics.health_versions import default_model, model_version_create
    from metrics.models import HealthModel

    default_model()
    draft = model_version_create(weights={"frequency": 35, "breadth": 25, "depth": 20, "sentiment": 20})
    login(page, "ada")
    page.goto(f"/health/backtest/?version={draft.pk}")
    expect(page.get_by_text("Run a backtest of this version before you can publish it.")).to_be_visible()
    page.get_by_label("Monthly dates").fill("10")
    page.get_by_role("button", name="Run backtest").click()
    expect(page.locator("#auc")).to_have_text(re.compile(r"^\d\.\d{3}$"))
    expect(page.locator("#random-auc")).to_have_text(re.compile(r"^\d\.\d{3}$"))
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("#component-table")).to_contain_text("frequency")
    shot(page, "backtest")
    page.get_by_role("button", name=re.compile("^Publish")).click()
    expect(page.get_by_role("status")).to_contain_text("is published")
    assert HealthModel.objects.get(pk=draft.pk).status == "published"


def test_an_admin_dry_runs_a_rule_then_enables_it(page, admin, shot, login):
    from alerts.models import AlertRule

    login(page, "ada")
    page.goto("/alerts/rules/")
    page.get_by_label("Name").fill("Tickets open over a week")
    page.get_by_label("Kind").select_option("ticket_open")
    page.get_by_label("Threshold").fill("7")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("heading", name="Tickets open over a week")).to_be_visible()
    expect(page.get_by_role("button", name="Enable")).to_be_disabled()
    page.evaluate("window.__still_here = true")
    page.get_by_label("Weeks back").fill("12")
    page.get_by_role("button", name="Dry-run").click()
    expect(page.locator("#dry-tasks")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#dry-load")).to_contain_text("carla")
    assert page.evaluate("window.__still_here") is True  # swapped in by HTMX
    page.reload()
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_role("status")).to_contain_text("is enabled")
    assert AlertRule.objects.get().enabled
    page.goto("/alerts/rules/")
    shot(page, "alert-rules")
    page.goto(f"/alerts/rules/{AlertRule.objects.get().pk}/")
    page.get_by_role("button", name="Dry-run").click()
    expect(page.locator("#dry-tasks")).to_be_visible()
    shot(page, "alert-rule-dry-run")


def test_a_manager_reads_the_rules_but_gets_no_controls(page, demo, login):
    from alerts.models import AlertRule

    rule = AlertRule.objects.create(name="Tickets open over a week", kind="ticket_open", threshold=7)
    login(page, "mona")
    page.goto("/alerts/rules/")
    expect(page.get_by_role("link", name="Tickets open over a week")).to_be_visible()
    expect(page.get_by_role("button", name="Add rule")).to_have_count(0)
    page.goto(f"/alerts/rules/{rule.pk}/")
    expect(page.get_by_role("heading", name="Tickets open over a week")).to_be_visible()
    expect(page.get_by_role("button", name="Enable")).to_have_count(0)
    expect(page.get_by_role("button", name="Dry-run")).to_have_count(0)
