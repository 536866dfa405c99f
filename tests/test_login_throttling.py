"""Login throttling (django-axes): five wrong passwords lock one username from one IP for 15 minutes."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-123"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # DRF's auth throttle counts in the cache


def _web_login(client, password, username="carla", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_sixth_attempt_after_five_wrong_passwords_is_locked_out_with_a_friendly_page(client, csm):
    for _ in range(4):
        assert _web_login(client, "wrong").status_code == 200  # the login form with its error
    locked = _web_login(client, "wrong")  # the fifth failure locks
    assert locked.status_code == 429
    again = _web_login(client, PASSWORD)  # even the right password now
    html = again.content.decode()
    assert again.status_code == 429 and int(again["Retry-After"]) == 15 * 60
    assert "Too many failed login attempts. Please wait 15 minutes and try again." in html
    assert "<h1>Login locked</h1>" in html and 'href="/accounts/login/"' in html
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_then_the_right_one_logs_in_and_resets_the_count(client, csm):
    for _ in range(4):
        _web_login(client, "wrong")
    assert _web_login(client, PASSWORD).status_code == 302
    client.logout()
    assert not AccessAttempt.objects.filter(username="carla").exists()  # AXES_RESET_ON_SUCCESS
    for _ in range(4):
        _web_login(client, "wrong")
    assert _web_login(client, PASSWORD).status_code == 302


def test_the_lockout_is_per_username_and_ip(client, csm, outsider):
    for _ in range(5):
        _web_login(client, "wrong")
    assert _web_login(client, PASSWORD, username="otto").status_code == 302  # another user, same IP
    client.logout()
    assert _web_login(client, PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 302  # same user, other IP


def test_the_admin_login_is_throttled_too(client, admin_user):
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "ada", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_api_token_endpoint_is_throttled_with_a_json_error(csm):
    api = APIClient()
    for _ in range(4):
        assert api.post(TOKEN_URL, {"username": "carla", "password": "wrong"}, format="json").status_code == 400
    assert api.post(TOKEN_URL, {"username": "carla", "password": "wrong"}, format="json").status_code == 429
    response = api.post(TOKEN_URL, {"username": "carla", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed login attempts. Please wait 15 minutes and try again."}


def test_the_lockout_ends_after_the_cool_off(client, csm, settings):
    import datetime

    import time_machine

    for _ in range(5):
        _web_login(client, "wrong")
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)):
        assert _web_login(client, PASSWORD).status_code == 302
