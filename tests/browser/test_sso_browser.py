"""Single sign-on in a real browser against a real OpenID Connect provider (npm oidc-provider, started here).

The provider's development login page takes an account by its login; its groups claim
decides the role. With "SSO only" on, a password no longer logs a CSM in, but a
superuser still may.
"""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser
PROVIDER = Path(__file__).resolve().parents[1] / "oidc_provider"
SHOTS = Path("/tmp/csplatform-screenshots")
ACCOUNTS = {
    "mona": {"email": "Mona@Example.com", "name": "Mona Berger", "groups": ["staff", "cs-leads"]},
    "sam": {"email": "sam@example.com", "name": "Sam Nobody", "groups": ["sales"]},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def provider_installed():
    """npm ci of tests/oidc_provider (package-lock.json), once per machine."""
    if not shutil.which("npm"):
        if os.environ.get("CSP_SKIP_BROWSER") == "1":
            pytest.skip("npm is missing")
        pytest.fail("node and npm are needed for the single sign-on tests (apt-get install nodejs npm)")
    if not (PROVIDER / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER, check=True, capture_output=True, timeout=300)
    return PROVIDER


@pytest.fixture
def provider(provider_installed, live_server, monkeypatch):
    import json

    port = _free_port()
    env = {
        **os.environ, "PORT": str(port), "CLIENT_ID": "csplatform", "CLIENT_SECRET": "s3cret-for-tests",
        "REDIRECT_URI": f"{live_server.url}/oidc/callback/", "ACCOUNTS": json.dumps(ACCOUNTS),
    }  # fmt: skip
    process = subprocess.Popen(["node", "server.js"], cwd=provider_installed, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    issuer = f"http://localhost:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the OIDC provider did not start: " + process.stdout.read1().decode())
        for name, value in {"ISSUER": issuer, "CLIENT_ID": "csplatform", "CLIENT_SECRET": "s3cret-for-tests",
                            "ROLE_MAP": "cs-admins=admin,cs-leads=manager,cs=csm"}.items():  # fmt: skip
            monkeypatch.setenv(f"INTEGRATION_OIDC_{name}", value)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sso_login(page, login):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Log in with single sign-on").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # the provider's consent page: "Continue"


def test_a_user_logs_in_through_the_provider_and_gets_the_role_of_their_group(page, provider, live_server, transactional_db):
    SHOTS.mkdir(exist_ok=True)
    page.goto("/accounts/login/")
    page.screenshot(path=str(SHOTS / "sso-login.png"))
    _sso_login(page, "mona")
    page.wait_for_url(f"{live_server.url}/")  # back home, logged in
    page.get_by_role("navigation", name="Main").wait_for()
    page.screenshot(path=str(SHOTS / "sso-logged-in.png"))
    user = get_user_model().objects.get(email__iexact="mona@example.com")
    assert [g.name for g in user.groups.all()] == ["manager"]
    assert (user.get_full_name(), user.is_staff) == ("Mona Berger", True)
    assert page.get_by_role("link", name="Alert rules").is_visible()  # a manager's menu


def test_a_user_in_no_mapped_group_is_refused_with_a_reason(page, provider, transactional_db):
    _sso_login(page, "sam")
    page.wait_for_url("**/accounts/login/?sso=failed")
    assert page.get_by_role("alert").inner_text().startswith("Single sign-on did not log you in")
    assert not get_user_model().objects.filter(email="sam@example.com").exists()


def test_sso_only_refuses_passwords_except_for_superusers(page, provider, transactional_db, monkeypatch, django_user_model):
    monkeypatch.setenv("INTEGRATION_OIDC_SSO_ONLY", "1")
    django_user_model.objects.create_user("carla", "carla@example.com", PASSWORD)
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    page.goto("/accounts/login/")
    assert "Password login is switched off" in page.content()
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    assert page.get_by_role("alert").is_visible()
    assert page.url.endswith("/accounts/login/")
    page.screenshot(path=str(SHOTS / "sso-only-refused.png"))
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("navigation", name="Main").wait_for()
