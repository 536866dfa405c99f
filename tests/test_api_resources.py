"""REST resources: CRUD, filters, search, ordering, bulk usage events, validation by the import's rules, no 500s."""

import datetime

import pytest
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

from accounts import reporting_time
from accounts.models import Customer, Subscription, Ticket, UsageEvent
from metrics.models import StaleRange
from surveys.models import SurveyResponse
from tests.api_support import API, client_for, fresh_throttles, make_world  # noqa: F401
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory, SurveyResponseFactory
from tests.import_support import messages, run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


@pytest.fixture
def world(csm):
    return make_world(owner=csm)


# --- CRUD ---


def test_admin_creates_reads_replaces_patches_and_deletes_a_customer(admin, csm):
    created = admin.post(f"{API}customers/", {"external_id": "N1", "name": "New", "csm": "carla"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["csm"] == "carla" and body["external_id"] == "N1"
    url = f"{API}customers/{body['id']}/"
    assert admin.get(url).json()["name"] == "New"
    replaced = admin.put(url, {"external_id": "N1", "name": "Renamed", "country": "fr"}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["country"] == "FR"  # normalised as the import does
    assert replaced.json()["csm"] == "carla"  # fields a PUT leaves out keep their value, as in DRF
    assert admin.patch(url, {"segment": "Enterprise"}, format="json").json()["segment"] == "Enterprise"
    assert admin.delete(url).status_code == 204
    assert not Customer.objects.filter(external_id="N1").exists()


def test_a_put_without_a_required_field_is_refused(admin, world):
    response = admin.put(f"{API}customers/{world.customer.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"external_id": ["This field is required."]}


def test_a_subscription_in_another_currency_is_converted_like_an_import(admin, world, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "0.5"}
    body = {"customer": world.customer.pk, "plan": "Add-on", "started_at": "2024-03-01", "mrr": "30", "currency": "usd"}
    response = admin.post(f"{API}subscriptions/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["mrr"] == "15.000000"
    assert response.json()["original_mrr"] == "30.000000"
    assert response.json()["currency"] == "USD"
    assert response.json()["is_trial"] is False


def test_a_csm_creates_a_task_assigned_to_themselves(csm, world):
    response = client_for(csm).post(f"{API}tasks/", {"customer": world.customer.pk, "title": "Call"}, format="json")
    assert response.status_code == 201
    assert response.json()["assignee"] == "carla"


def test_a_note_is_written_by_the_caller(csm, world):
    response = client_for(csm).post(f"{API}notes/", {"customer": world.customer.pk, "body": "Hi"}, format="json")
    assert response.json()["author"] == "carla"


def test_a_csm_cannot_hand_a_customer_to_someone_else(csm, outsider, world):
    response = client_for(csm).patch(f"{API}customers/{world.customer.pk}/", {"csm": "otto"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"csm": ["only an admin may change who owns a customer"]}


def test_a_csm_cannot_move_a_record_to_a_customer_outside_the_portfolio(csm, outsider, world):
    foreign = CustomerFactory(owner=outsider)
    response = client_for(csm).patch(f"{API}tickets/{world.ticket.pk}/", {"customer": foreign.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"customer": [f"no customer with id {foreign.pk}"]}


def test_an_api_write_marks_its_days_stale_for_the_snapshots(admin, world):
    StaleRange.objects.all().delete()
    body = {"customer": world.customer.pk, "plan": "Add-on", "started_at": "2024-03-01", "mrr": "30"}
    assert admin.post(f"{API}subscriptions/", body, format="json").status_code == 201
    # an open-ended row: from the day before it starts (a period ending on 1 March reads it) until today
    assert StaleRange.objects.filter(
        start__lte=datetime.date(2024, 2, 29), end__gt=reporting_time.today(), input="subscriptions"
    ).exists()


# --- validation mirrors the import ---


def test_ended_before_started_is_refused_with_the_imports_message(admin, world, tmp_path):
    body = {"customer": world.customer.pk, "plan": "Pro", "started_at": "2024-03-01", "ended_at": "2024-02-01", "mrr": "10"}
    response = admin.post(f"{API}subscriptions/", body, format="json")
    assert response.status_code == 400
    imported = run(
        "subscriptions",
        tmp_path,
        "customer_external_id,plan,started_at,ended_at,mrr\nACME,Pro,2024-03-01,2024-02-01,10\n",
    )
    assert response.json() == {"ended_at": [messages(imported)[0].split(": ", 1)[1]]}


def test_a_patch_is_checked_against_the_stored_record(admin, world):
    url = f"{API}subscriptions/{world.subscription.pk}/"  # started 2024-01-01
    response = admin.patch(url, {"ended_at": "2023-12-01"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["ended_at"]


def test_an_nps_score_of_11_is_off_the_scale(admin, world):
    body = {"customer": world.customer.pk, "survey_type": "nps", "score": 11, "responded_at": "2024-02-01T10:00:00Z"}
    response = admin.post(f"{API}survey-responses/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"score": ["11 is outside the NPS scale 0–10"]}


def test_a_survey_contact_must_belong_to_the_customer(admin, world):
    other = ContactFactory()
    body = {
        "customer": world.customer.pk, "contact": other.pk, "survey_type": "csat", "score": 5,
        "responded_at": "2024-02-01T10:00:00Z",
    }  # fmt: skip
    response = admin.post(f"{API}survey-responses/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["contact"]


def test_a_second_record_with_the_same_key_is_refused(admin, world):
    body = {"customer": world.customer.pk, "external_id": world.ticket.external_id, "opened_at": "2024-02-01T10:00:00Z"}
    response = admin.post(f"{API}tickets/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"external_id": ["a ticket with the same key already exists"]}


def test_every_problem_of_a_record_is_reported_at_once(admin, world):
    body = {"customer": world.customer.pk, "survey_type": "sms", "score": "ten", "responded_at": "yesterday"}
    response = admin.post(f"{API}survey-responses/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"survey_type", "score", "responded_at"}


GARBAGE = [
    pytest.param("subscriptions", {"quantity": 10**30}, "quantity", id="huge-int"),
    pytest.param("subscriptions", {"mrr": 1e300}, "mrr", id="huge-float"),
    pytest.param("subscriptions", {"billing_period_months": "twelve"}, "billing_period_months", id="string-for-int"),
    pytest.param("subscriptions", {"started_at": "2024-02-30"}, "started_at", id="impossible-date"),
    pytest.param("subscriptions", {"customer": 10**30}, "customer", id="huge-id"),
    pytest.param("subscriptions", {"customer": "abc"}, "customer", id="string-id"),
    pytest.param("subscriptions", {"plan": {"a": 1}}, "plan", id="object-for-string"),
    pytest.param("subscriptions", {"plan": "Pro\x00"}, "plan", id="nul"),
    pytest.param("subscriptions", {"plan": "x" * 1000}, "plan", id="too-long"),
    pytest.param("tickets", {"opened_at": "0001-01-01T00:00:00+01:00"}, "opened_at", id="instant-before-year-1"),
    pytest.param("tickets", {"contacts_count": -1}, "contacts_count", id="negative"),
    pytest.param("tickets", {"contact": "x"}, "contact", id="string-contact"),
    pytest.param("costs", {"month": "2024-13"}, "month", id="bad-month"),
    pytest.param("costs", {"amount": "1,5"}, "amount", id="decimal-comma"),
    pytest.param("contacts", {"language": "fr"}, "language", id="unknown-language"),
    pytest.param("contacts", {"email": "not-an-email"}, "email", id="bad-email"),
    pytest.param("customers", {"parent": 10**30}, "parent", id="huge-parent"),
    pytest.param("customers", {"csm": "no body!"}, "csm", id="unknown-csm"),
]


@pytest.mark.parametrize(("resource", "change", "field"), GARBAGE)
def test_garbage_in_a_field_is_a_400_naming_it(admin, world, resource, change, field):
    obj = world.object_for(resource)
    response = admin.patch(f"{API}{resource}/{obj.pk}/", change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"name": ', "application/json", id="truncated-json"),
        pytest.param(b"[1, 2]", "application/json", id="list-for-object"),
        pytest.param(b'"text"', "application/json", id="string-for-object"),
        pytest.param(b"\xff\xfe", "application/json", id="not-utf8"),
        pytest.param(b'{"score": NaN}', "application/json", id="nan"),
        pytest.param(b'{"comment": "\\ud800"}', "application/json", id="lone-surrogate"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(admin, world, body, content_type):
    response = admin.generic("PATCH", f"{API}survey-responses/{world.survey_response.pk}/", body, content_type)
    assert response.status_code == 400, response.content
    assert response.json()


def test_an_unknown_record_is_a_json_404(admin):
    for pk in ("999999", "abc", str(10**30)):
        response = admin.get(f"{API}customers/{pk}/")
        assert response.status_code == 404
        assert list(response.json()) == ["detail"]


# --- filters, search, ordering ---


def test_customers_filter_by_segment_and_csm(admin, csm, world):
    CustomerFactory(segment="Enterprise", name="Big")
    rows = admin.get(f"{API}customers/?segment=SMB&csm=carla").json()["results"]
    assert [r["name"] for r in rows] == ["Acme"]


def test_records_filter_by_customer_and_dates(admin, world):
    SubscriptionFactory(started_at=datetime.date(2023, 1, 1))
    rows = admin.get(f"{API}subscriptions/?customer={world.customer.pk}&started_at_after=2024-01-01").json()["results"]
    assert [r["id"] for r in rows] == [world.subscription.pk]
    assert admin.get(f"{API}subscriptions/?active_on=2023-06-01").json()["count"] == 1


def test_survey_responses_filter_by_type_and_score(admin, world):
    SurveyResponseFactory(customer=world.customer, survey_type="csat", score=2)
    rows = admin.get(f"{API}survey-responses/?survey_type=nps&score_min=9").json()["results"]
    assert [r["id"] for r in rows] == [world.survey_response.pk]


def test_search_and_ordering(admin, world):
    CustomerFactory(name="Zeta Corp")
    CustomerFactory(name="Beta Corp")
    assert [r["name"] for r in admin.get(f"{API}customers/?search=corp").json()["results"]] == ["Beta Corp", "Zeta Corp"]
    names = [r["name"] for r in admin.get(f"{API}customers/?ordering=-name").json()["results"]]
    assert names == ["Zeta Corp", "Beta Corp", "Acme"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("colour=red", "colour"),
        ("customer=abc", "customer"),
        ("started_at_after=yesterday", "started_at"),
        ("ordering=password", "ordering"),
        ("page=99", "page"),
        ("search=a%00b", "search"),
        ("is_trial=maybe", "is_trial"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(admin, world, query, param):
    response = admin.get(f"{API}subscriptions/?{query}")
    assert response.status_code == 400, response.content
    assert param in response.json()


def test_a_list_costs_a_fixed_number_of_queries(admin, world, django_assert_max_num_queries):
    for _ in range(5):
        CustomerFactory(owner=world.customer.owner).assigned_users.add(world.customer.owner)
    with django_assert_max_num_queries(8):
        assert admin.get(f"{API}customers/").status_code == 200


# --- usage events ---


def _event(customer_id, minute=0, **extra):
    return {
        "customer": customer_id,
        "user_external_id": "u1",
        "event_type": "login",
        "occurred_at": f"2024-02-01T10:{minute:02d}:00Z",
        **extra,
    }


def test_usage_events_are_created_in_bulk_and_duplicates_counted(csm, world):
    client = client_for(csm)
    batch = [_event(world.customer.pk, m) for m in range(3)] + [_event(world.customer.pk, 0, user_external_id="new")]
    response = client.post(f"{API}usage-events/", batch, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"received": 4, "created": 4, "duplicates": 0}
    again = client.post(f"{API}usage-events/", batch[:2], format="json")
    assert again.json() == {"received": 2, "created": 0, "duplicates": 2}
    assert world.customer.contacts.filter(external_id="new").exists()


def test_a_bad_event_refuses_the_whole_batch_naming_the_event_and_field(csm, outsider, world):
    foreign = CustomerFactory(owner=outsider)
    batch = [_event(world.customer.pk), _event(world.customer.pk, occurred_at="soon"), _event(foreign.pk)]
    response = client_for(csm).post(f"{API}usage-events/", batch, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body[0] == {}
    assert body[2] == {"customer": [f"no customer with id {foreign.pk}"]}
    batch = [_event(world.customer.pk), _event(world.customer.pk, occurred_at="soon")]
    body = client_for(csm).post(f"{API}usage-events/", batch, format="json").json()
    assert body == [{}, {"occurred_at": ['"soon" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)']}]
    assert UsageEvent.objects.count() == 1  # the world's own event


def test_a_batch_over_the_limit_is_refused_with_a_clear_error(admin, world):
    batch = [_event(world.customer.pk)] * 5_001
    response = admin.post(f"{API}usage-events/", batch, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "5,001 events in one request; send at most 5,000"}


@pytest.mark.parametrize("body", [{}, [], "x", [1], [{"customer": True}]])
def test_a_batch_that_is_not_a_list_of_events_is_a_400(admin, body):
    assert admin.post(f"{API}usage-events/", body, format="json").status_code == 400


def test_usage_events_are_listed_by_cursor_in_time_order(admin, world):
    admin.post(f"{API}usage-events/", [_event(world.customer.pk, m) for m in (30, 10, 20)], format="json")
    page = admin.get(f"{API}usage-events/?page_size=2&customer={world.customer.pk}").json()
    times = [r["occurred_at"] for r in page["results"]]
    assert times == sorted(times) and len(times) == 2
    rest = admin.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    assert admin.get(f"{API}usage-events/?cursor=garbage").status_code == 400


# --- tokens, throttling, schema ---


def test_a_user_gets_and_revokes_a_token(csm):
    response = client_for().post(f"{API}auth/token/", {"username": "carla", "password": "pw-Secret-123"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}customers/").status_code == 200
    assert client.delete(f"{API}auth/token/").status_code == 204
    assert client.get(f"{API}customers/").status_code == 401


def test_a_wrong_password_gets_no_token(csm):
    response = client_for().post(f"{API}auth/token/", {"username": "carla", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_too_many_requests_get_429_with_retry_after(csm, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "2/minute", raising=False)
    client = client_for(csm)
    statuses = [client.get(f"{API}customers/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get(f"{API}customers/")
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()


def test_password_attempts_are_throttled(csm, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "1/minute"})
    client = client_for()
    client.post(f"{API}auth/token/", {"username": "carla", "password": "nope"}, format="json")
    response = client.post(f"{API}auth/token/", {"username": "carla", "password": "pw-Secret-123"}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_the_schema_and_docs_are_served_without_a_cdn(admin):
    assert admin.get(f"{API}schema/").status_code == 200
    for page in ("docs/", "redoc/"):
        html = admin.get(f"{API}{page}").content.decode()
        assert "drf_spectacular_sidecar" in html
        assert "cdn.jsdelivr.net" not in html


def test_deleting_a_ticket_removes_only_it(admin, world):
    assert admin.delete(f"{API}tickets/{world.ticket.pk}/").status_code == 204
    assert not Ticket.objects.exists()
    assert Subscription.objects.exists() and SurveyResponse.objects.exists()


def test_datetime_filters_take_any_offset_python_reads(db, client, admin_user):
    """PostgreSQL refuses offsets past ±15:59; the filter compares in UTC instead."""
    client.force_login(admin_user)
    response = client.get("/api/v1/usage-events/", {"occurred_at_after": "5514-08-18T03:10:32+22:57"})
    assert response.status_code == 200
    response = client.get("/api/v1/tickets/", {"opened_at_before": "9999-12-31T23:00:00-05:00"})
    assert response.status_code == 200


def test_an_admin_sends_an_active_survey_through_the_api(db, admin_user, csm, django_capture_on_commit_callbacks):
    from surveys.models import Survey, SurveyInvitation

    customer = CustomerFactory(owner=csm, segment="SMB")
    ContactFactory(customer=customer, email="ann@example.com")
    api = client_for(admin_user)
    created = api.post(
        "/api/v1/surveys/",
        {"name": "NPS", "survey_type": "nps", "question_en": "Recommend us?", "question_de": "Empfehlen?",
         "target": "segment", "target_segment": "SMB"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["status"] == "draft"
    survey_url = f"/api/v1/surveys/{created.json()['id']}/"
    assert api.post(survey_url + "send/").json() == {"status": ["only an active survey can be sent"]}
    api.patch(survey_url, {"status": "active"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(survey_url + "send/").status_code == 202
    assert SurveyInvitation.objects.filter(survey_id=created.json()["id"], contact__email="ann@example.com").count() == 1
    assert client_for(csm).post(survey_url + "send/").status_code == 403
    assert Survey.objects.count() == 1
