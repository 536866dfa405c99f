"""The account page as of a past day in a real browser: the banner, the lazy health section, no forms."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from metrics.health_snapshots import health_snapshot_write
from tests.browser.conftest import _month_start

pytestmark = pytest.mark.browser


def test_account_as_of_a_past_day(page, demo, shot, login):
    customer = demo["customers"]["Alpenblick Hotels AG"]  # MRR 2,400 until two months ago, then 1,600
    day = _month_start(datetime.date.today(), 2) - datetime.timedelta(days=10)
    for back in range(0, 120, 7):  # weekly stored scores, some after the day (not shown)
        health_snapshot_write(day + datetime.timedelta(days=40) - datetime.timedelta(days=back), [customer.pk])
    login(page, "carla")
    page.goto(f"/customers/{customer.pk}/?as_of={day.isoformat()}")
    banner = page.locator(".as-of-banner")
    expect(banner).to_contain_text(f"Viewing as of {day.isoformat()}")
    expect(banner.get_by_role("link", name="back to today")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("€2,400")
    expect(page.locator("#add-note")).to_have_count(0)
    expect(page.get_by_label("As of", exact=True)).to_have_value(day.isoformat())
    health = page.locator("#account-health")  # loaded by HTMX, with the same as_of
    expect(health).to_contain_text(f"until {day.isoformat()}")
    expect(health.get_by_role("button", name="Start playbook")).to_have_count(0)
    shot(page, "account-as-of")

    banner.get_by_role("link", name="back to today").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator(".as-of-banner")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("€1,600")
    expect(page.locator("#add-note")).to_be_visible()

    page.goto(f"/customers/{customer.pk}/?as_of=2024-13-01")  # typed by hand: the picker refuses it
    expect(page.get_by_role("alert").filter(has_text="Enter the date as YYYY-MM-DD")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("€1,600")
