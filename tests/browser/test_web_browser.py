"""The CSM app in a real browser: find an at-risk customer, see why, act, read the team report."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_shows_the_portfolio(page, demo, shot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "login")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill("pw-Secret-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My customers")).to_be_visible()
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(7)  # her 8 but Rheinpfalz, which churned
    expect(page.locator("#portfolio-table")).not_to_contain_text("Tallinn Textiles")  # David's customer
    expect(page.locator("#portfolio-table")).not_to_contain_text("Rheinpfalz Medien")
    shot(page, "portfolio")


def test_portfolio_filter_swaps_the_table_without_a_reload(page, demo, shot, login):
    login(page, "carla")
    page.evaluate("window.__still_here = true")
    page.get_by_label("Health").select_option("at_risk")
    expect(page).to_have_url(re.compile(r"band=at_risk"))
    rows = page.locator("#portfolio-table tbody tr")
    expect(rows.first).to_contain_text("At risk")
    for text in rows.all_inner_texts():
        assert "At risk" in text
    assert page.evaluate("window.__still_here") is True  # swapped in place, not reloaded
    page.get_by_label("Search").fill("alpen")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alpenblick Hotels AG")
    assert page.evaluate("window.__still_here") is True
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(1)  # Alpenblick; Rheinpfalz churned: a former customer
    page.get_by_label("Status").select_option("all")
    expect(rows).to_have_count(2)  # Alpenblick and Rheinpfalz
    expect(page).not_to_have_url(re.compile(r"q=alpen"))
    page.get_by_role("link", name=re.compile("^MRR")).click()  # sort by MRR, highest first
    expect(page).to_have_url(re.compile(r"sort=-mrr"))
    assert page.evaluate("window.__still_here") is True
    shot(page, "portfolio-filtered")
    page.reload()  # the URL is shareable: the same filtered table comes back
    expect(page.get_by_label("Health")).to_have_value("at_risk")


def test_account_page_explains_health_and_takes_notes_and_tasks(page, demo, shot, login):
    login(page, "carla")
    page.get_by_role("link", name="Alpenblick Hotels AG").click()
    expect(page.get_by_role("heading", name=re.compile("Alpenblick Hotels AG"))).to_be_visible()
    health = page.locator("section[aria-labelledby=health-title]")
    for component in ("Frequency", "Breadth", "Depth", "Sentiment", "Support", "Growth"):
        expect(health).to_contain_text(component)
    expect(health).to_contain_text("known users active")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.evaluate("window.__still_here = true")

    page.get_by_label("Note").fill("Called the GM: training booked for next week.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("training booked for next week")
    expect(page.get_by_label("Note")).to_have_value("")

    page.get_by_label("Task", exact=True).fill("Follow up after the training")
    page.get_by_label("Due on").fill("2031-01-15")
    page.get_by_role("button", name="Add task").last.click()
    expect(page.locator("#tasks")).to_contain_text("Follow up after the training")
    expect(page.locator("#timeline")).to_contain_text("Follow up after the training")  # HX-Trigger refresh

    page.locator("#tasks li", has_text="Plan a training for new staff").get_by_role("button").click()
    expect(page.locator("#tasks li.done")).to_contain_text("Plan a training for new staff")
    assert page.evaluate("window.__still_here") is True
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "account")


def test_team_report_with_drilldown(page, demo, shot, login):
    login(page, "mona")
    page.get_by_role("link", name="Team reports").click()
    expect(page.get_by_role("heading", name="Team reports")).to_be_visible()
    expect(page.locator("#report-body")).to_contain_text("Net revenue retention")
    expect(page.locator("#report-body")).to_contain_text("CSM comparison")
    expect(page.locator("svg.chart")).to_have_count(7)  # MRR movements and six trends (churn and retention apart)
    shot(page, "report")
    page.evaluate("window.__still_here = true")
    page.locator("a.drill[href^='/reports/rows/customers/']").click()
    drill = page.locator("#drilldown")
    expect(drill).to_contain_text("Paying customers")
    expect(drill.locator("table tbody tr").first).to_be_visible()
    assert page.evaluate("window.__still_here") is True
    shot(page, "drilldown", full_page=False)
    page.get_by_label("Scope").select_option("csm:carla")
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#report-body")).to_contain_text("portfolio of carla")
    expect(page).to_have_url(re.compile(r"scope=csm%3Acarla"))


def test_my_tasks_complete_in_place(page, demo, shot, login):
    login(page, "carla")
    page.get_by_role("link", name="My tasks").click()
    rows = page.locator("#task-list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("tr", has_text="Plan a training for new staff")).to_contain_text("Overdue")
    shot(page, "tasks")
    page.locator("tr", has_text="Check the Excel export fix").get_by_role("button").click()
    expect(page.locator("tr", has_text="Check the Excel export fix")).to_contain_text("Done")


def test_profile_manages_the_api_token(page, demo, shot, login):
    login(page, "carla")
    page.get_by_role("link", name="Profile & API").click()
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Your token")
    expect(token).to_have_value(re.compile(r"^[0-9a-f]{40}$"))
    first = token.input_value()
    page.get_by_role("button", name="Rotate token").click()
    expect(page.locator("#api-token")).to_contain_text("The old one no longer works")
    assert page.get_by_label("Your token").input_value() != first
    shot(page, "profile")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator("#api-token")).to_contain_text("You have no API token")


def test_pages_work_without_javascript(browser, live_server, demo):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill("pw-Secret-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Health").select_option("at_risk")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"band=at_risk"))
    page.get_by_role("link", name="Alpenblick Hotels AG").click()
    page.get_by_label("Note").fill("Written without JavaScript")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Written without JavaScript")
    expect(page.get_by_role("status")).to_contain_text("Note added")
    context.close()


def test_phone_layout_keeps_the_table_usable(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill("pw-Secret-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="My tasks")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # the table scrolls inside its card, the page does not
    context.close()
