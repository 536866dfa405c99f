"""The Integrations page in a browser: status per connection, a refused message with its payload, replay."""

from pathlib import Path

import pytest

from accounts.models import Customer
from integrations import segment
from integrations.models import InboundEvent
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/csplatform-screenshots")


def test_an_admin_sees_the_connections_and_replays_a_refused_call(page, login, transactional_db, django_user_model, monkeypatch):
    SHOTS.mkdir(exist_ok=True)
    django_user_model.objects.create_superuser("ada", "ada@example.com", PASSWORD)
    monkeypatch.setenv("INTEGRATION_SEGMENT_WRITE_KEY", "wk_from_environment_1234")
    segment.ingest([{"type": "track", "userId": "u1", "event": "Login", "groupId": "ACME", "messageId": "m-7",
                     "timestamp": "2024-01-02T03:04:05Z"}])  # fmt: skip
    login(page, "ada")
    page.get_by_role("link", name="Integrations").click()
    segment_card = page.locator("#connection-segment")
    assert "ready" in segment_card.inner_text()
    assert "incomplete" in page.locator("#connection-zendesk").inner_text()
    assert "no customer" in segment_card.inner_text()
    page.screenshot(path=str(SHOTS / "integrations.png"), full_page=True)
    Customer.objects.create(external_id="ACME", name="Acme")
    segment_card.get_by_role("button", name="Replay").click()
    assert page.get_by_role("status").inner_text().startswith("Replayed: stored")
    assert InboundEvent.objects.get(external_id="m-7").status == "replayed"
    page.get_by_role("button", name="Make a new write key").click()
    key = page.locator("#new-secret").input_value()
    assert key.startswith("wk_") and len(key) > 20
    page.screenshot(path=str(SHOTS / "integrations-new-key.png"))
