"""The CS team's daily loop on a simulated company, as a CS manager and a CSM would look at it: the inbox,
renewals, cohorts and churn reasons, each checked for its content and photographed (scripts/screenshots
keeps the pictures in docs/screenshots/)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def company(transactional_db, django_user_model, tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # alert emails and playbook starts run in the command
    end = datetime.date.today().replace(day=1)
    call_command("simulate", customers=90, months=16, end=end, out=str(tmp_path), csm=["carla", "david"], seed=7)
    for name in ("carla", "david"):
        user = django_user_model.objects.get(username=name)
        user.set_password(PASSWORD)
        user.first_name = name.title()
        user.save()
    mona = django_user_model.objects.create_user("mona", "mona@example.com", PASSWORD, first_name="Mona")
    mona.groups.add(Group.objects.get_or_create(name="manager")[0])
    call_command("demo_live", seed=7)


def test_the_daily_loop_pages(page, company, login, shot):
    login(page, "carla")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_contain_text("Inbox")
    page.goto("/inbox/")
    rows = page.locator("tr.inbox-row")
    expect(rows.first).to_be_visible()
    shot(page, "inbox")
    first = rows.first
    first.get_by_role("button", name="Acknowledge").click()
    expect(first).to_contain_text("acknowledged by carla")

    login(page, "mona")
    page.goto("/renewals/?days=90")
    expect(page.locator("#renewal-list-title")).to_be_visible()
    expect(page.locator("#forecast-title")).to_be_visible()
    shot(page, "renewals")

    page.goto("/cohorts/?months=12")
    cell = page.locator(".cohort-table a.drill").first
    cell.click()
    expect(page.locator("#drilldown")).to_contain_text("Cohort")
    shot(page, "cohorts")

    page.goto("/churn-reasons/?months=12")
    month = page.locator("#reasons-body thead a").nth(10)
    month.click()
    expect(page.locator("#reasons-detail-title")).to_be_visible()
    shot(page, "churn-reasons")
