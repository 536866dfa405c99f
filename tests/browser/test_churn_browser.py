"""The churn model in a real browser: the model card, an account's drivers (English and German),
the portfolio column and the team report, with no console error. Screenshots go to a temporary
directory (CHURN_SHOTS to keep them), never into tracked files."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def snap(tmp_path):
    directory = Path(os.environ.get("CHURN_SHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)

    def save(target, name):
        target.screenshot(path=str(directory / f"{name}.png"))

    return save


@pytest.fixture
def published(demo):
    from tests.churn_support import stored_model

    return stored_model()


def test_an_admin_reads_the_model_card_and_its_calibration_table(page, demo, published, django_user_model, login, snap):
    from tests.browser.conftest import PASSWORD

    django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD, is_staff=True, is_superuser=True)
    login(page, "ada")
    page.get_by_role("link", name="Churn model").click()
    expect(page.get_by_role("heading", name=re.compile("^Churn model v1"))).to_be_visible()
    expect(page.locator("#auc-model")).to_contain_text(re.compile(r"0\.\d{3}"))
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.get_by_role("button", name="Train a new version")).to_be_visible()
    page.get_by_text("Show as table").click()
    expect(page.locator("#calibration-table tbody tr")).to_have_count(10)
    snap(page, "churn-model-card")


def test_a_csm_sees_what_drives_an_accounts_risk(page, demo, published, login, snap):
    customer = demo["customers"]["Alpenblick Hotels AG"]
    login(page, "carla")
    page.goto(f"/customers/{customer.pk}/")
    section = page.locator("#churn-risk")
    expect(section.get_by_role("heading", name=re.compile("Churn risk"))).to_be_visible()
    expect(section.locator("#churn-drivers li")).to_have_count(3)
    snap(section, "churn-account-drivers")
    section.get_by_role("link", name="How the model works and how well it predicted").click()
    expect(page.get_by_role("heading", name=re.compile("^Churn model v1"))).to_be_visible()


def test_the_drivers_read_in_german(page, demo, published, login, snap):
    customer = demo["customers"]["Alpenblick Hotels AG"]
    login(page, "carla")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Switch").click()
    page.goto(f"/customers/{customer.pk}/")
    section = page.locator("#churn-risk")
    expect(section.get_by_role("heading", name=re.compile("Abwanderungsrisiko"))).to_be_visible()
    expect(section).to_contain_text("Was das Risiko treibt")
    snap(section, "churn-account-drivers-de")


def test_the_portfolio_sorts_by_churn_risk_and_the_report_shows_mrr_at_risk(page, demo, published, login, snap):
    login(page, "carla")
    page.get_by_role("link", name="Churn risk").click()
    expect(page.locator("#mrr-at-risk")).to_contain_text("€")
    rows = page.locator("#portfolio-table tbody tr")
    first, second = (float(rows.nth(i).locator(".pill[class*='risk-']").inner_text().split()[0].replace(",", "."))
                     for i in (0, 1))  # fmt: skip
    assert first >= second
    snap(page, "churn-portfolio")
    login(page, "mona")
    page.goto("/reports/?scope=company")
    expect(page.locator("#report-mrr-at-risk")).to_contain_text("€")
    expect(page.locator("#churn-per-csm tbody tr")).to_have_count(2)
