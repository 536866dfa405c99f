"""Single sign-on rules without a browser: the role map, and "SSO only" for the API's password login too."""

import pytest
from rest_framework.test import APIClient

from integrations import sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc(monkeypatch):
    for name, value in {"ISSUER": "http://localhost:1", "CLIENT_ID": "c", "ROLE_MAP": "cs-admins=admin, cs=csm,x=root"}.items():
        monkeypatch.setenv(f"INTEGRATION_OIDC_{name}", value)


def test_the_strongest_mapped_group_decides_the_role(oidc):
    assert sso.role_map() == {"cs-admins": "admin", "cs": "csm"}  # "root" is no role: ignored
    assert sso.role_for({"groups": ["cs", "cs-admins"]}) == "admin"
    assert sso.role_for({"groups": "cs"}) == "csm"
    assert sso.role_for({"groups": ["x", "sales"]}) is None
    assert sso.role_for({}) is None


def test_sso_only_refuses_the_api_token_password_login_except_for_superusers(oidc, monkeypatch, csm, admin_user):
    client = APIClient()
    body = {"username": "carla", "password": "pw-Secret-123"}
    assert client.post("/api/v1/auth/token/", body, format="json").status_code == 200
    monkeypatch.setenv("INTEGRATION_OIDC_SSO_ONLY", "yes")
    assert client.post("/api/v1/auth/token/", body, format="json").status_code == 400
    assert client.post("/api/v1/auth/token/", {**body, "username": "ada"}, format="json").status_code == 200


def test_sso_only_needs_a_configured_provider(monkeypatch):
    monkeypatch.setenv("INTEGRATION_OIDC_SSO_ONLY", "1")
    assert sso.sso_only() is False  # no issuer: switching passwords off would lock everybody out
