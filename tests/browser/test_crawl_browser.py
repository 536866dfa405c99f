"""Crawl every page reachable from the navigation, as a CSM and as a manager, at laptop and phone width:
no server error, no console error (CSP violations included), no horizontal scroll, and axe-core
(static/vendor/axe.min.js) finds no serious or critical accessibility violation."""

import datetime

import pytest

from alerts.models import AlertRule
from alerts.services import alert_fire

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SKIP = ("/admin/", "/accounts/logout", "/i18n/")
AXE = "/static/vendor/axe.min.js"
# The outermost elements reaching past the window that no scrolling box of their own contains.
WIDE_ELEMENTS = """() => {
  const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) return true; } return false; };
  return [...document.body.querySelectorAll("*")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e))
    .filter((e, _, all) => !all.includes(e.parentElement))
    .slice(0, 4).map(e => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().width)}px)`);
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


@pytest.fixture
def loop_data(demo):
    """The demo portfolio plus open alerts and a churn reason, so the inbox and reports have rows."""
    from accounts.models import ChurnReason, Subscription

    rule = AlertRule.objects.create(name="Old tickets", kind="ticket_open", threshold=3, send_email=False,
                                    dry_run_at=datetime.datetime.now(datetime.UTC), enabled=True)  # fmt: skip
    today = datetime.date.today()
    for name in ("Alpenblick Hotels AG", "Helios Pharma AG", "Lagos Freight Ltd"):
        alert_fire(rule=rule, customer=demo["customers"][name], day=today - datetime.timedelta(days=2),
                   details={"open_tickets": 3, "oldest_opened_on": (today - datetime.timedelta(days=22)).isoformat()})  # fmt: skip
    Subscription.objects.filter(customer=demo["customers"]["Rheinpfalz Medien"]).update(
        end_reason=ChurnReason.objects.get_or_create(code="competitor", defaults={"label": "Switched to a competitor"})[0],
        end_note="Moved to a cheaper tool.",
    )
    return demo


def _nav_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("nav[aria-label='Main'] a", "links => links.map(a => a.getAttribute('href'))")
    return [h for h in dict.fromkeys(hrefs) if h and not h.startswith(SKIP)]


def _check(page, url, problems):
    response = page.goto(url)
    if response is None or response.status >= 500:
        problems.append(f"{url}: status {response and response.status}")
        return
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        wide = page.evaluate(WIDE_ELEMENTS)
        problems.append(f"{url}: scrolls sideways by {overflow}px ({wide})")
    page.add_script_tag(url=AXE)
    for v in page.evaluate(AXE_RUN):
        problems.append(f"{url}: axe {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("username", ["carla", "mona"])
def test_every_page_of_the_navigation_is_clean(browser, live_server, loop_data, login, username, viewport):
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    login(page, username)
    urls = _nav_links(page)
    assert {"/", "/inbox/", "/renewals/", "/cohorts/", "/churn-reasons/", "/reports/"} <= set(urls)
    account = loop_data["customers"]["Alpenblick Hotels AG"].pk
    problems = []
    for url in [*urls, f"/customers/{account}/", "/reports/definitions/"]:
        _check(page, url, problems)
    context.close()
    assert not problems, "\n".join(problems)
    assert not errors, "\n".join(errors)
