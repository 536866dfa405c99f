"""The Integrations page: admins only, settings from the page or the environment, secrets shown once, replay."""

import pytest

from accounts.models import Customer, UsageEvent
from integrations import config
from integrations.models import Connection, InboundEvent

pytestmark = pytest.mark.django_db
URL = "/integrations/"


def test_only_admins_see_the_page(client, csm, manager, admin_user):
    for user, status in ((csm, 403), (manager, 403), (admin_user, 200)):
        client.force_login(user)
        assert client.get(URL).status_code == status
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_settings_come_from_the_page_else_the_environment_and_secrets_are_never_shown(client, admin_user, monkeypatch):
    monkeypatch.setenv("INTEGRATION_STRIPE_WEBHOOK_SECRET", "whsec_from_env_abcdef")
    client.force_login(admin_user)
    page = client.get(URL).content.decode()
    assert "whsec_from_env_abcdef" not in page and "…cdef" in page
    response = client.post("/integrations/stripe/settings", {"enabled": "on", "webhook_secret": "whsec_page_123456789", "api_base": ""})
    assert response.status_code == 302
    assert config.value("stripe", "webhook_secret") == "whsec_page_123456789"
    # Saving again with the secret left blank keeps it.
    client.post("/integrations/stripe/settings", {"enabled": "on", "webhook_secret": "", "api_key": ""})
    assert config.value("stripe", "webhook_secret") == "whsec_page_123456789"
    page = client.get(URL).content.decode()
    assert "whsec_page_123456789" not in page and "…6789" in page
    client.post("/integrations/stripe/settings", {"webhook_secret": ""})  # switched off
    assert Connection.objects.get(kind="stripe").enabled is False


def test_a_new_write_key_is_shown_once_and_works(client, admin_user):
    client.force_login(admin_user)
    answer = client.post("/integrations/segment/write-key").content.decode()
    key = config.value("segment", "write_key")
    assert key.startswith("wk_") and key in answer
    assert key not in client.get(URL).content.decode()


def test_a_refused_message_is_replayed_once_its_cause_is_fixed(client, admin_user, monkeypatch):
    monkeypatch.setenv("INTEGRATION_SEGMENT_WRITE_KEY", "k")
    call = {"type": "track", "userId": "u1", "event": "Login", "groupId": "LATE", "messageId": "m1",
            "timestamp": "2024-01-02T03:04:05Z"}  # fmt: skip
    from integrations import segment

    assert segment.ingest([call]).refused
    event = InboundEvent.objects.get(status="refused")
    client.force_login(admin_user)
    client.post(f"/integrations/events/{event.pk}/replay")
    assert "Replay failed: customer_external_id" in client.get(URL).content.decode()
    assert InboundEvent.objects.filter(status="refused").count() == 1  # a failed replay logs nothing new
    Customer.objects.create(external_id="LATE", name="Late Ltd")
    client.post(f"/integrations/events/{event.pk}/replay")
    event.refresh_from_db()
    assert event.status == "replayed"
    assert UsageEvent.objects.get().event_id == "m1"


def test_the_page_and_the_sso_button_speak_german(client, admin_user, monkeypatch):
    monkeypatch.setenv("INTEGRATION_SEGMENT_WRITE_KEY", "k")
    monkeypatch.setenv("INTEGRATION_OIDC_ISSUER", "http://localhost:1")
    monkeypatch.setenv("INTEGRATION_OIDC_CLIENT_ID", "c")
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Mit Single Sign-on anmelden" in login
    client.force_login(admin_user)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<h1>Integrationen</h1>" in page
    assert "Produktereignisse (Segment-Spezifikation)" in page and "bereit" in page
    assert "Es fehlt: Subdomain, E-Mail des Agenten" in page


def test_saving_an_unknown_connection_is_404_and_csms_may_not_replay(client, admin_user, csm):
    client.force_login(admin_user)
    assert client.post("/integrations/ftp/settings", {}).status_code == 404
    event = InboundEvent.objects.create(kind="segment", status="refused", payload={"type": "track"})
    client.force_login(csm)
    assert client.post(f"/integrations/events/{event.pk}/replay").status_code == 403
    assert client.post("/integrations/segment/write-key").status_code == 403
    assert not Connection.objects.exists()
