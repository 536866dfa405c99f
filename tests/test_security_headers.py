"""Production hardening seen from outside: the CSP header, deploy settings and 2FA for staff."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from surveys.views.public import CSP as SURVEY_CSP
from tests.factories import ContactFactory, CustomerFactory
from tests.surveys_support import InvitationFactory

pytestmark = pytest.mark.django_db

SITE_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    """Return {directive: sources} of a CSP header."""
    pairs = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: sources for name, sources in pairs}


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/reports/", "/tasks/", "/profile/", "/admin/"])
def test_every_page_sends_the_site_policy_without_unsafe_inline(client, admin_user, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == SITE_DIRECTIVES
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_account_page_sends_the_site_policy(client, admin_user):
    client.force_login(admin_user)
    customer = CustomerFactory(owner=admin_user)
    response = client.get(reverse("web:account", args=[customer.pk]))
    assert directives(response["Content-Security-Policy"]) == SITE_DIRECTIVES


def test_the_swagger_page_allows_its_one_inline_style_by_nonce(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/v1/docs/")
    policy = directives(response["Content-Security-Policy"])
    nonce = policy["style-src"].removeprefix("'self' 'nonce-").removesuffix("'")
    assert policy["script-src"] == f"'self' 'nonce-{nonce}'" and len(nonce) >= 16
    assert f'<style nonce="{nonce}">' in response.content.decode()
    assert "<script>" not in response.content.decode()  # Swagger UI's settings come from ?script
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_each_response_gets_a_fresh_nonce(client, admin_user):
    client.force_login(admin_user)
    first, second = (directives(client.get("/api/v1/docs/")["Content-Security-Policy"]) for _ in range(2))
    assert first["style-src"] != second["style-src"]


def test_redoc_relaxes_styles_only(client, admin_user):
    client.force_login(admin_user)
    policy = directives(client.get("/api/v1/redoc/")["Content-Security-Policy"])
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"].startswith("'self' 'nonce-") and "unsafe" not in policy["script-src"]


def test_the_public_survey_page_keeps_its_own_stricter_policy(client):
    now = timezone.now()
    invitation = InvitationFactory(
        contact=ContactFactory(), created_at=now, expires_at=now + datetime.timedelta(days=14)
    )
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == SURVEY_CSP  # one header, the survey's own
    assert directives(SURVEY_CSP)["default-src"] == "'none'"


def test_deploy_settings_are_strict_without_debug():
    """test_settings keeps production's security settings (only SSL redirect is off for the test client)."""
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE and settings.SESSION_COOKIE_HTTPONLY
    assert settings.SECURE_HSTS_SECONDS >= 31536000 and settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.X_FRAME_OPTIONS == "DENY" and settings.SECURE_CONTENT_TYPE_NOSNIFF


def test_check_deploy_reports_no_warning(settings, monkeypatch):
    settings.SECURE_SSL_REDIRECT = True  # as in production; the test client speaks plain HTTP
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # set by the browser tests' conftest
    call_command("check", "--deploy", "--fail-level", "WARNING")


# --- Optional two-factor authentication for staff (CSPLATFORM_STAFF_2FA) ----------------


def _admin_login(client, **extra):
    return client.post(reverse("admin:login"), {"username": "ada", "password": "pw-Secret-123", **extra})


def test_without_the_setting_staff_log_in_to_admin_with_a_password(client, admin_user):
    response = _admin_login(client)
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_the_setting_a_password_alone_does_not_open_admin(client, admin_user, settings):
    settings.CSPLATFORM_STAFF_2FA = True
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    login_page = client.get(reverse("admin:login"))
    assert 'name="otp_token"' in login_page.content.decode()
    assert _admin_login(client).status_code == 200  # the form asks for a token
    assert client.get(reverse("admin:index")).status_code == 302


def test_with_the_setting_a_verified_totp_device_opens_admin(client, admin_user, settings):
    settings.CSPLATFORM_STAFF_2FA = True
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    token = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    response = _admin_login(client, otp_device=device.persistent_id, otp_token=f"{token:06d}")
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_the_setting_a_wrong_token_is_refused(client, admin_user, settings):
    settings.CSPLATFORM_STAFF_2FA = True
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    response = _admin_login(client, otp_device=device.persistent_id, otp_token="000000")
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_can_enrol_a_totp_device_in_admin_with_a_qr_code(client, admin_user):
    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=False)
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert page.status_code == 200 and "qrcode" in page.content.decode()
    qr = client.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]))
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml")


def _current_code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_with_the_setting_a_staff_password_alone_gets_no_api_token(client, admin_user, settings):
    from rest_framework.authtoken.models import Token

    settings.CSPLATFORM_STAFF_2FA = True
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    url = "/api/v1/auth/token/"
    refused = client.post(url, {"username": "ada", "password": "pw-Secret-123"}, content_type="application/json")
    assert refused.status_code == 400 and "one-time code" in refused.content.decode()
    wrong = client.post(url, {"username": "ada", "password": "pw-Secret-123", "otp_token": "000000"},
                        content_type="application/json")  # fmt: skip
    assert wrong.status_code == 400
    assert not Token.objects.filter(user=admin_user).exists()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a wrong code
    given = client.post(url, {"username": "ada", "password": "pw-Secret-123", "otp_token": _current_code(device)},
                        content_type="application/json")  # fmt: skip
    assert given.status_code == 200 and given.json()["token"] == Token.objects.get(user=admin_user).key


def test_with_the_setting_a_csm_still_gets_a_token_with_a_password(client, csm, settings):
    settings.CSPLATFORM_STAFF_2FA = True
    csm.set_password("pw-Secret-123")
    csm.save()
    response = client.post("/api/v1/auth/token/", {"username": csm.username, "password": "pw-Secret-123"},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["token"]


def test_with_the_setting_staff_create_no_token_on_the_profile_page_without_a_code(client, admin_user, settings):
    from rest_framework.authtoken.models import Token

    settings.CSPLATFORM_STAFF_2FA = True
    client.force_login(admin_user)  # a password login: the session has no verified device
    response = client.post("/profile/token/", {"action": "create"}, follow=True)
    assert "one-time code" in response.content.decode()
    assert not Token.objects.filter(user=admin_user).exists()
    settings.CSPLATFORM_STAFF_2FA = False
    client.post("/profile/token/", {"action": "create"})
    assert Token.objects.filter(user=admin_user).exists()

