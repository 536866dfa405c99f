"""The OpenAPI schema as generated clients read it: one JSON body per write, typed responses,
one error shape, the outgoing webhooks. Client generation itself is tested in
tests/test_api_clients.py."""

import copy
import datetime

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaMismatch

from metrics.selectors import KPI_KEYS
from metrics.serializers import ROW_SERIALIZERS
from tests.api_support import API, client_for, fresh_throttles  # noqa: F401
from tests.kpi_example import build_worked_example

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


# --- Every answer has a type ---------------------------------------------------------------


def _untyped(schema, components, path, seen, found):
    """Collect the places under `schema` where a client would get an untyped value."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _untyped(components[name], components, name, seen, found)
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for n, sub in enumerate(schema.get(key, [])):
            _untyped(sub, components, f"{path}.{key}[{n}]", seen, found)
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if not types - {None} and not any(k in schema for k in ("$ref", "oneOf", "anyOf", "allOf", "const", "enum")):
        found.append(path)
    if "object" in types:
        extra = schema.get("additionalProperties")
        if "properties" not in schema and not isinstance(extra, dict):
            found.append(path)
        if isinstance(extra, dict):
            _untyped(extra, components, f"{path}.*", seen, found)
        for name, sub in schema.get("properties", {}).items():
            _untyped(sub, components, f"{path}.{name}", seen, found)
    if "array" in types:
        _untyped(schema.get("items", {}), components, f"{path}[]", seen, found)


def test_every_response_and_request_body_of_every_operation_is_typed(schema):
    components = schema["components"]["schemas"]
    found, seen = [], set()
    for path, method, operation in operations(schema):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            _untyped(content["schema"], components, f"{method} {path} request", seen, found)
        for code, response in operation["responses"].items():
            if code == "204":
                assert "content" not in response
                continue
            for media, content in response["content"].items():
                assert media == "application/json", (method, path, code, media)
                _untyped(content["schema"], components, f"{method} {path} {code}", seen, found)
    assert found == []


def test_every_operation_documents_its_errors_in_the_two_error_shapes(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "429" in responses, (method, path)
        if path != "/api/v1/auth/token/" or method != "post":
            assert {"401", "403"} <= set(responses), (method, path)
        for code, response in responses.items():
            if code.startswith("4"):
                ref = response["content"]["application/json"]["schema"].get("$ref", "")
                expected = "ValidationError" if code == "400" else "Error"
                assert ref == f"#/components/schemas/{expected}" or (method, path) == ("post", "/api/v1/usage-events/")


# --- Real answers match their components, with no field left undocumented ------------------


def _strict(node):
    """Return a copy of a schema where objects take no properties beyond the documented ones."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {key: _strict(value) for key, value in node.items()}
    if "properties" in strict and "additionalProperties" not in strict:
        strict["additionalProperties"] = False
    return strict


def check(schema, component, instance):
    """Validate `instance` against a component of the schema, strictly; raise on the first mismatch."""
    root = {"components": {"schemas": _strict(copy.deepcopy(schema["components"]["schemas"]))}}
    root["$ref"] = f"#/components/schemas/{component}"
    Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(instance)


FEB = {"start": "2024-02-01", "end": "2024-03-01"}


@pytest.fixture
def example(db, settings):
    settings.CSPLATFORM_ONBOARDING_STEPS = ["login", "report"]
    customers = build_worked_example()
    for letter in "DG":  # signed up in February: the onboarding cohort
        customers[letter].created_on = datetime.date(2024, 2, 5)
        customers[letter].save()
    return customers


def test_a_report_of_every_kpi_matches_its_components(schema, example, admin_user):
    body = client_for(admin_user).get(f"{API}kpis/", FEB).json()
    check(schema, "KpiReport", body)
    assert list(body["kpis"]) == list(KPI_KEYS)
    assert list(body["kpis"]["onboarding_drop_off"]["steps"]) == ["login", "report"]
    assert body["kpis"]["nps"] == {"value": 20, "promoters": 5, "passives": 2, "detractors": 3, "responses": 10}


def test_a_series_matches_its_component(schema, example, admin_user):
    body = client_for(admin_user).get(f"{API}kpis/series/", {"start": "2024-01-01", "end": "2024-04-01"}).json()
    check(schema, "KpiSeries", body)
    assert [point["period"]["start"] for point in body["series"]] == ["2024-01-01", "2024-02-01", "2024-03-01"]


def test_the_rows_of_every_kpi_match_their_row_kind(schema, example, admin_user):
    client = client_for(admin_user)
    kinds = set()
    for key in KPI_KEYS:
        body = client.get(f"{API}kpis/{key}/rows/", FEB).json()
        check(schema, "KpiRowsPage", body)
        kinds |= {row["kind"] for row in body["results"]}
    assert kinds == set(ROW_SERIALIZERS)


def test_a_row_of_another_kind_is_refused_by_the_schema(schema):
    row = {"kind": "lead", "customer_id": 1, "customer": "Acme", "first": "2024-02-01"}
    with pytest.raises(SchemaMismatch, match="is not valid"):
        check(schema, "KpiRow", row)
    check(schema, "KpiRow", {**row, "kind": "new_customer"})


def test_health_matches_its_component(schema, example, admin_user):
    body = client_for(admin_user).get(f"{API}customers/{example['A'].pk}/health/", {"at": "2024-03-01"}).json()
    check(schema, "Health", body)
    assert set(body["components"]) == {"frequency", "breadth", "depth", "sentiment", "support", "growth"}


def test_a_stored_snapshot_matches_its_component(schema, example, admin_user):
    from metrics.periods import Period
    from metrics.selectors import Scope
    from metrics.snapshots import snapshot_write

    snapshot_write(Scope(), Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1)))
    body = client_for(admin_user).get(f"{API}kpi-snapshots/", {"page_size": 100}).json()
    check(schema, "PaginatedKpiSnapshotList", body)
    assert {row["metric"] for row in body["results"]} == set(KPI_KEYS)


@pytest.mark.parametrize(
    "url,status,component",
    [
        (f"{API}kpis/?start=2024-03-01&end=2024-02-01", 400, "ValidationError"),
        (f"{API}kpis/?start=2024-02-01&end=2024-03-01&bogus=1", 400, "ValidationError"),
        (f"{API}customers/?ordering=nope", 400, "ValidationError"),
        (f"{API}customers/999999/", 404, "Error"),
        (f"{API}kpis/bogus/rows/?start=2024-02-01&end=2024-03-01", 404, "Error"),
        (f"{API}costs/", 403, "Error"),
    ],
)
def test_errors_come_in_their_documented_shape(schema, db, csm, url, status, component):
    response = client_for(csm).get(url)
    assert response.status_code == status
    check(schema, component, response.json())


def test_an_unknown_query_parameter_on_a_detail_path_is_a_400(schema, db, csm):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(owner=csm)
    response = client_for(csm).get(f"{API}customers/{customer.pk}/", {"bogus": "1"})
    assert (response.status_code, response.json()) == (400, {"bogus": ["unknown query parameter"]})
    assert "400" in schema["paths"]["/api/v1/customers/{id}/"]["get"]["responses"]


def test_an_anonymous_request_gets_the_error_shape(schema, db):
    response = client_for().get(f"{API}customers/")
    assert response.status_code == 401
    check(schema, "Error", response.json())


# --- Outgoing webhooks ------------------------------------------------------------------------


def test_the_webhooks_we_send_are_in_the_schema_with_their_signature_headers(schema):
    assert set(schema["webhooks"]) == {"alert.fired", "playbook.step"}
    for item in schema["webhooks"].values():
        operation = item["post"]
        assert [p["name"] for p in operation["parameters"]] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
        assert list(operation["requestBody"]["content"]) == ["application/json"]


def _message_schema(schema, event_type):
    ref = schema["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


@pytest.fixture
def watched_customer(db, csm):
    from tests.factories import CustomerFactory, SubscriptionFactory

    customer = CustomerFactory(owner=csm, name="Acme", external_id="ACME")
    SubscriptionFactory(customer=customer, started_at=datetime.date(2023, 1, 1), ended_at=datetime.date(2024, 3, 20))
    return customer


def test_an_alert_fired_message_of_each_rule_kind_matches_the_schema(schema, watched_customer):
    from decimal import Decimal

    from alerts import conditions
    from alerts.models import AlertRule, Webhook, WebhookDelivery
    from alerts.services import alert_fire
    from metrics.health_versions import default_model
    from metrics.models import HealthScore, UserDayActivity
    from tests.factories import ContactFactory, SurveyResponseFactory, TicketFactory

    day, week, utc = datetime.date(2024, 3, 4), datetime.timedelta(days=7), datetime.UTC
    customer = watched_customer
    for when, score, band in ((day - week, 72, "healthy"), (day, 40, "neutral")):
        HealthScore.objects.create(customer=customer, day=when, model=default_model(), score=Decimal(score), band=band,
                                   computed_at=datetime.datetime(2024, 3, 4, tzinfo=utc))  # fmt: skip
    contact = ContactFactory(customer=customer)
    for n in range(1, 8):
        UserDayActivity.objects.create(customer=customer, contact=contact, day=day - week - datetime.timedelta(days=n), events=1)
    SurveyResponseFactory(customer=customer, score=4, comment="slow", responded_at=datetime.datetime(2024, 3, 1, tzinfo=utc))
    TicketFactory(customer=customer, opened_at=datetime.datetime(2024, 1, 1, tzinfo=utc))
    webhook = Webhook.objects.create(name="Ops", url="http://127.0.0.1:9/")
    kinds = ["band_drop", "score_drop", "usage_drop", "renewal", "detractor", "ticket_open"]
    for kind in kinds:
        details = conditions.matches(kind, 30, day, [customer.pk])[customer.pk]
        rule = AlertRule.objects.create(name=kind, kind=kind, threshold=30, enabled=True, webhook=webhook)
        alert_fire(rule=rule, customer=customer, day=day, details=details)
    payloads = [d.payload for d in WebhookDelivery.objects.order_by("pk")]
    assert [p["data"]["rule"]["kind"] for p in payloads] == kinds
    for payload in payloads:
        check(schema, _message_schema(schema, "alert.fired"), payload)
    with pytest.raises(SchemaMismatch, match="'alert.fired' was expected"):
        check(schema, _message_schema(schema, "alert.fired"), {**payloads[0], "type": "playbook.step"})


def test_a_playbook_step_message_matches_the_schema(schema, watched_customer, csm):
    from alerts.models import Playbook, PlaybookStep, Webhook, WebhookDelivery
    from alerts.playbooks import playbook_start

    playbook = Playbook.objects.create(name="Save the account")
    webhook = Webhook.objects.create(name="CRM", url="http://127.0.0.1:9/")
    PlaybookStep.objects.create(playbook=playbook, position=0, kind="webhook", webhook=webhook)
    playbook_start(playbook=playbook, customer=watched_customer, user=csm)
    [delivery] = WebhookDelivery.objects.all()
    check(schema, _message_schema(schema, "playbook.step"), delivery.payload)
    assert delivery.payload["data"]["customer"] == {"id": watched_customer.pk, "name": "Acme"}


def test_every_example_in_the_schema_matches_its_schema(schema):
    examples = 0
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            for content in response.get("content", {}).values():
                ref = content["schema"].get("$ref", "")
                for example in content.get("examples", {}).values():
                    check(schema, ref.rsplit("/", 1)[1], example["value"])
                    examples += 1
    for item in schema["webhooks"].values():
        content = item["post"]["requestBody"]["content"]["application/json"]
        for example in content["examples"].values():
            check(schema, content["schema"]["$ref"].rsplit("/", 1)[1], example["value"])
            examples += 1
    assert examples >= 8
