"""The CSM app in German: switch the language in the sidebar, the navigation and pages follow."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

GERMAN_NAV = ["Meine Kunden", "Meine Aufgaben", "Team-Berichte", "Umfragen", "Health-Änderungen", "Profil & API"]


def _switch_to_german(page):
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_sidebar_switch_turns_the_app_german(page, demo, shot, login):
    login(page, "mona")
    _switch_to_german(page)
    nav = page.get_by_role("navigation", name="Hauptmenü")
    for label in GERMAN_NAV:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav).not_to_contain_text("My customers")
    expect(page.get_by_role("heading", name="Kunden", exact=True)).to_be_visible()  # a manager sees everybody's
    expect(page.locator("#portfolio-table thead")).to_contain_text("Offene Aufgaben")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(10)  # 11 but one former customer
    # Every control of the filter card stays inside it at 1366 px ("Zurücksetzen" used to stick out).
    outside = page.evaluate("""() => { const card = document.querySelector('#portfolio-filters').getBoundingClientRect();
      return [...document.querySelectorAll('#portfolio-filters .btn, #portfolio-filters select, #portfolio-filters input')]
        .filter(e => e.offsetParent && e.getBoundingClientRect().right > card.right - 1).map(e => e.textContent || e.name); }""")
    assert outside == []
    shot(page, "portfolio-de")

    nav.get_by_role("link", name="Team-Berichte").click()
    expect(page.get_by_role("heading", name="Team-Berichte", level=1)).to_be_visible()
    body = page.locator("#report-body")
    for text in ("Kunden und Umsatz", "Netto-Umsatzbindung", "CSM-Vergleich", "Onboarding-Trichter", "Letzte 12 Monate"):
        expect(body).to_contain_text(text)
    expect(page.locator("svg.chart")).to_have_count(7)
    shot(page, "report-de")

    page.get_by_label("Sprache").select_option("en")  # and back: the switch is labelled in German now
    page.get_by_role("button", name="Wechseln").click()
    expect(page.get_by_role("heading", name="Team reports", level=1)).to_be_visible()
