"""The site's Content Security Policy in a real browser: every page renders with no violation.

The `page` fixture fails a test on any console error, and Chromium reports each CSP
violation ("Refused to execute inline script …") as one, so visiting a page is the test.
Hostile text in a customer's name must stay text on every page.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(1)</script>'


@pytest.fixture
def staff(demo, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


def _no_dialog(page):
    """Fail if any script of the page opens a dialog (an injected alert(1) would)."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def _csp(response) -> str:
    return response.headers.get("content-security-policy", "")


def test_csm_pages_render_under_the_csp_without_violations(page, demo, login):
    customer = demo["customers"]["Alpenblick Hotels AG"]
    customer.name = "Alpenblick " + HOSTILE
    customer.save()
    dialogs = _no_dialog(page)
    login(page, "carla")
    for url in ("/", f"/customers/{customer.pk}/", "/reports/", "/reports/rows/customers/", "/tasks/", "/profile/"):
        response = page.goto(url)
        assert response.status == 200, url
        assert "'unsafe-inline'" not in _csp(response) and "script-src 'self'" in _csp(response), url
        expect(page.locator("main")).to_be_visible()
    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_role("heading", name="Alpenblick")).to_contain_text("<script>alert(1)</script>")
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_admin_changelist_and_change_page_render_under_the_csp(page, staff):
    customer = staff.owned_customers.model.objects.get(name="Helios Pharma AG")
    customer.name = "Helios " + HOSTILE
    customer.save()
    dialogs = _no_dialog(page)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    for url in ("/admin/accounts/customer/", f"/admin/accounts/customer/{customer.pk}/change/",
                f"/admin/accounts/customer/{customer.pk}/history/", "/admin/accounts/subscription/",
                "/admin/accounts/note/add/", "/admin/importing/importjob/add/"):  # fmt: skip
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in _csp(response), url
    page.goto("/admin/accounts/customer/?q=Helios")
    expect(page.locator("#result_list")).to_contain_text("<script>alert(1)</script>")
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def _admin_login(page):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()


def test_swagger_ui_renders_under_the_csp(page, staff):
    _admin_login(page)
    response = page.goto("/api/v1/docs/")
    assert "'nonce-" in _csp(response) and "'unsafe-inline'" not in _csp(response)
    # the first schema request generates it: seconds on a busy machine
    expect(page.locator(".swagger-ui .information-container")).to_contain_text("csplatform API", timeout=30_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()


def test_redoc_renders_with_inline_styles_but_no_inline_scripts(browser, live_server, staff):
    """Redoc's only violation is its CDN logo, which the policy is right to block."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    _admin_login(page)
    response = page.goto("/api/v1/redoc/")
    script_src = next(d for d in _csp(response).split("; ") if d.startswith("script-src"))
    assert "'nonce-" in script_src and "'unsafe-inline'" not in script_src
    expect(page.locator("#redoc-container")).to_contain_text("csplatform API", timeout=15_000)
    page.wait_for_timeout(500)
    context.close()
    assert [e for e in errors if "cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []


def test_the_periodic_task_form_works_under_the_csp(page, staff):
    """django-celery-beat's form had an inline script the CSP blocked (a console error, no crontab help)."""
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="0", hour="4")
    _admin_login(page)
    response = page.goto("/admin/django_celery_beat/periodictask/add/")
    assert response.status == 200 and "script-src 'self'" in _csp(response)
    page.locator("#id_crontab").select_option(str(crontab.pk))
    expect(page.locator(".field-crontab .help")).to_contain_text("Translation:")
    # the page fixture fails the test on any console error, a CSP violation included
