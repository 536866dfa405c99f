"""The interactive API docs read the OpenAPI 3.1 schema: typed answers, errors and the webhooks we send."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def patient_expect():
    """Swagger UI's bundle and the whole schema: slow on a busy machine (expect's own default is 5 s)."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def test_swagger_ui_shows_the_typed_kpi_report_and_the_webhooks(page, db):
    page.set_default_timeout(30_000)  # Swagger UI's bundle and the whole schema: slow on a busy machine
    page.goto("/api/v1/docs/", timeout=60_000)
    info = page.locator(".swagger-ui .information-container")
    expect(info).to_contain_text("csplatform API")
    expect(info).to_contain_text("OAS 3.1")
    kpis = page.locator("#operations-kpis-kpis_retrieve")
    kpis.locator(".opblock-summary").click()
    responses = kpis.locator(".responses-table")
    for code in ("200", "400", "401", "404", "429"):
        expect(responses.locator(f"tr.response[data-code='{code}']")).to_be_visible()
    expect(responses.locator("tr.response[data-code='200']")).to_contain_text('"logo_churn_rate"')
    expect(page.locator(".swagger-ui")).to_contain_text("Webhooks")
    expect(page.locator(".swagger-ui")).to_contain_text("alert.fired")
    responses.locator("tr.response[data-code='200']").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/csplatform-swagger-kpi-answers.png")
    page.get_by_text("alert.fired").first.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/csplatform-swagger-webhooks.png")
