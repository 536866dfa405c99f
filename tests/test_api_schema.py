"""The OpenAPI schema as generated clients read it: one JSON body per write, typed responses,
one error shape, the outgoing webhooks. Client generation itself is tested in
tests/test_api_clients.py."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.api_support import API, client_for, fresh_throttles  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_throttles")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_request_body_is_json_but_the_import_upload(schema):
    bodies = {
        (method, path): sorted(operation["requestBody"]["content"])
        for path, method, operation in operations(schema)
        if "requestBody" in operation
    }
    assert bodies[("post", "/api/v1/imports/")] == ["multipart/form-data"]
    others = {key: media for key, media in bodies.items() if key != ("post", "/api/v1/imports/")}
    assert len(others) > 20
    assert {tuple(media) for media in others.values()} == {("application/json",)}


@pytest.mark.django_db
def test_a_form_encoded_write_is_refused_with_415(admin_user, csm):
    response = client_for(admin_user).post(f"{API}customers/", {"external_id": "F1", "name": "Form"}, format="multipart")
    assert response.status_code == 415
    assert response.json() == {"detail": 'the body is "multipart/form-data"; send application/json'}


@pytest.mark.django_db
def test_a_token_is_asked_for_with_json(csm):
    csm.set_password("pw-Secret-123")
    csm.save()
    form = Client().post(f"{API}auth/token/", {"username": csm.username, "password": "pw-Secret-123"})
    assert form.status_code == 415
    assert form.json() == {"detail": 'the body is "multipart/form-data"; send application/json'}
    json = Client().post(
        f"{API}auth/token/", {"username": csm.username, "password": "pw-Secret-123"}, content_type="application/json"
    )
    assert json.status_code == 200 and len(json.json()["token"]) == 40


@pytest.mark.django_db
def test_the_browsable_api_still_offers_a_json_form(admin_user):
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"{API}customers/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_content_type"' in html and "application/json" in html
    assert "multipart/form-data" not in html.split('name="_content_type"')[1].split("</select>")[0]
