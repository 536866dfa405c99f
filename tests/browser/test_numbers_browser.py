"""The team report warns about data-quality findings and links each KPI to its definition (screenshots under /tmp)."""

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/csplatform-screenshots")


def test_report_warns_about_the_data_and_each_kpi_links_to_its_definition(page, demo, login):
    from metrics.quality import quality_refresh
    from tests.factories import CustomerFactory, SubscriptionFactory
    from web.selectors import default_report_period

    month = default_report_period()
    twice = CustomerFactory(name="Twice Ltd")
    SubscriptionFactory(customer=twice, plan="pro", started_at=month.start)
    SubscriptionFactory(customer=twice, plan="pro", started_at=month.start + datetime.timedelta(days=3))  # overlaps
    quality_refresh()
    SHOTS.mkdir(exist_ok=True)
    login(page, "mona")
    page.get_by_role("link", name="Team reports").click()
    warning = page.locator("#quality-warning")
    expect(warning).to_contain_text("Check the data before trusting these figures.")
    expect(warning).to_contain_text("Two subscription rows of one customer and plan overlap (1)")
    page.screenshot(path=str(SHOTS / "report-quality-warning.png"), full_page=False)
    page.get_by_role("link", name="Definition of Net revenue retention").click()
    expect(page).to_have_url(re.compile(r"/reports/definitions/#kpi-net-revenue-retention$"))
    expect(page.locator("#kpi-net-revenue-retention")).to_be_in_viewport()
    expect(page.locator("body")).to_contain_text("(Opening MRR + expansion − contraction − churned MRR) / opening MRR.")
    page.screenshot(path=str(SHOTS / "kpi-definitions.png"), full_page=False)
