"""Who may do what through the REST API: every endpoint × anonymous, owning CSM, other CSM, manager, admin.

Each combination is one test with the status it must get. A list must also show the
owning CSM's record to those allowed to see it and hide it from the other CSM.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api_support import API, client_for, fresh_throttles, make_world, tmp_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles", "tmp_media")]

PERSONAS = ("anonymous", "csm", "outsider", "manager", "admin")


def expect(*statuses):
    return dict(zip(PERSONAS, statuses, strict=True))


# A CSM reads and writes records of their own customers; another CSM finds none of them.
PORTFOLIO = {
    "list": expect(401, 200, 200, 200, 200),
    "retrieve": expect(401, 200, 404, 200, 200),
    "create": expect(401, 201, 400, 403, 201),
    "update": expect(401, 200, 404, 403, 200),
    "delete": expect(401, 204, 404, 403, 204),
}
# Customers come from billing: only admins create or delete them; their CSM edits them.
CUSTOMERS = {
    **PORTFOLIO,
    "create": expect(401, 403, 403, 403, 201),
    "delete": expect(401, 403, 403, 403, 204),
}
# Costs and leads are company data: admins and managers read, admins write, CSMs are refused.
COMPANY = {
    "list": expect(401, 403, 403, 200, 200),
    "retrieve": expect(401, 403, 403, 200, 200),
    "create": expect(401, 403, 403, 403, 201),
    "update": expect(401, 403, 403, 403, 200),
    "delete": expect(401, 403, 403, 403, 204),
}
USAGE_EVENTS = {"list": PORTFOLIO["list"], "create": PORTFOLIO["create"]}
IMPORTS = {
    "list": expect(401, 403, 403, 403, 200),
    "retrieve": expect(401, 403, 403, 403, 200),
    "create": expect(401, 403, 403, 403, 202),
}
# Surveys: every role reads them; admins set them up.
SURVEYS = {
    "list": PORTFOLIO["list"],
    "retrieve": expect(401, 200, 200, 200, 200),
    "create": expect(401, 403, 403, 403, 201),
    "update": expect(401, 403, 403, 403, 200),
    "delete": expect(401, 403, 403, 403, 204),
}
RULES = {
    "customers": CUSTOMERS,
    "contacts": PORTFOLIO,
    "subscriptions": PORTFOLIO,
    "tickets": PORTFOLIO,
    "usage-events": USAGE_EVENTS,
    "survey-responses": PORTFOLIO,
    "tasks": PORTFOLIO,
    "notes": PORTFOLIO,
    "costs": COMPANY,
    "leads": COMPANY,
    "imports": IMPORTS,
    "surveys": SURVEYS,
}


def new_record(resource, customer_id):
    """Return a valid body creating a `resource` record for the customer."""
    return {
        "customers": {"external_id": "NEW", "name": "New Co"},
        "contacts": {"customer": customer_id, "external_id": "u-new", "email": "new@example.com"},
        "subscriptions": {"customer": customer_id, "plan": "Team", "started_at": "2024-02-01", "mrr": "50"},
        "tickets": {"customer": customer_id, "external_id": "T-NEW", "opened_at": "2024-02-01T10:00:00Z"},
        "usage-events": [
            {"customer": customer_id, "user_external_id": "u-9", "event_type": "login", "occurred_at": "2024-02-01T10:00:00Z"}
        ],
        "survey-responses": {"customer": customer_id, "survey_type": "nps", "score": 7, "responded_at": "2024-02-01T10:00:00Z"},
        "tasks": {"customer": customer_id, "title": "Call them"},
        "notes": {"customer": customer_id, "body": "Renewal looks safe."},
        "costs": {"month": "2024-05", "category": "sales", "amount": "10"},
        "leads": {"external_id": "L-NEW", "created_at": "2024-02-01T10:00:00Z"},
        "surveys": {"name": "Q3 NPS", "survey_type": "nps", "question_en": "Recommend us?", "question_de": "Empfehlen?"},
    }[resource]


CHANGES = {
    "customers": {"name": "Renamed"},
    "contacts": {"name": "Renamed"},
    "subscriptions": {"plan": "Enterprise"},
    "tickets": {"subject": "Renamed"},
    "survey-responses": {"comment": "Thanks"},
    "tasks": {"title": "Renamed"},
    "notes": {"body": "Renamed"},
    "costs": {"amount": "11"},
    "leads": {"source": "ads"},
    "surveys": {"name": "Renamed"},
}

CASES = [
    pytest.param(resource, action, persona, status, id=f"{resource}-{action}-{persona}-{status}")
    for resource, rules in RULES.items()
    for action, statuses in rules.items()
    for persona, status in statuses.items()
]


@pytest.fixture
def personas(csm, outsider, manager, admin_user):
    return {"anonymous": None, "csm": csm, "outsider": outsider, "manager": manager, "admin": admin_user}


def call(client, resource, action, world):
    obj = world.object_for(resource)
    detail = f"{API}{resource}/{obj.pk}/"
    if action == "list":
        return client.get(f"{API}{resource}/")
    if action == "retrieve":
        return client.get(detail)
    if action == "update":
        return client.patch(detail, CHANGES[resource], format="json")
    if action == "delete":
        return client.delete(detail)
    if resource == "imports":
        upload = SimpleUploadedFile("c.csv", b"external_id,name\nN1,New\n", content_type="text/csv")
        return client.post(f"{API}imports/", {"kind": "customers", "file": upload}, format="multipart")
    return client.post(f"{API}{resource}/", new_record(resource, world.customer.pk), format="json")


@pytest.mark.parametrize(("resource", "action", "persona", "status"), CASES)
def test_access(resource, action, persona, status, personas, csm, django_capture_on_commit_callbacks):
    world = make_world(owner=csm)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client_for(personas[persona]), resource, action, world)
    assert response.status_code == status, response.content
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Token")
    if status == 400:
        assert "customer" in response.json() or "customer" in response.json()[0]
    if action == "list" and status == 200:
        results = response.json()["results"]
        ids = {row["id"] for row in results}
        assert (world.object_for(resource).pk in ids) is (persona != "outsider" or resource == "surveys")


def test_an_assigned_csm_reads_and_writes_the_customer(csm, outsider):
    world = make_world(owner=csm)
    world.customer.assigned_users.add(outsider)
    client = client_for(outsider)
    assert client.get(f"{API}customers/{world.customer.pk}/").status_code == 200
    assert client.patch(f"{API}tickets/{world.ticket.pk}/", {"subject": "x"}, format="json").status_code == 200


KPI_URLS = [
    pytest.param("kpis/", id="report"),
    pytest.param("kpis/series/", id="series"),
    pytest.param("kpis/nps/rows/", id="rows"),
]


@pytest.mark.parametrize("url", KPI_URLS)
@pytest.mark.parametrize(
    ("persona", "status"), [(p, s) for p, s in expect(401, 200, 404, 200, 200).items()], ids=lambda v: str(v)
)
def test_kpis_of_a_customer_are_hidden_outside_the_portfolio(url, persona, status, personas, csm):
    world = make_world(owner=csm)
    query = f"?start=2024-01-01&end=2024-02-01&customer={world.customer.pk}"
    response = client_for(personas[persona]).get(f"{API}{url}{query}")
    assert response.status_code == status, response.content


@pytest.mark.parametrize(("persona", "status"), [(p, 204 if p != "anonymous" else 401) for p in PERSONAS])
def test_revoking_a_token_needs_one(persona, status, personas):
    assert client_for(personas[persona]).delete(f"{API}auth/token/").status_code == status


def test_a_user_without_a_role_is_refused(django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="pw-Secret-123")
    assert client_for(nobody).get(f"{API}customers/").status_code == 403
