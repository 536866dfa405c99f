"""The Segment-spec source, fed by the official Segment and RudderStack Python clients over HTTP.

Both clients are pointed at pytest-django's live server (their `host` option); what they
send lands in the usage events, contacts and customers, and in the rollups, as the CSV
import's rows do. Forged and bad calls are refused with a clear error and logged without
losing the good ones.
"""

import base64
import datetime
import gzip
import json

import pytest
import requests
from django.db import connection

from accounts.models import Contact, Customer, UsageEvent
from integrations.models import InboundEvent
from metrics.models import StaleRange, UserDayActivity

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "wk_test_0123456789"
UTC = datetime.UTC


@pytest.fixture
def host(live_server, monkeypatch):
    monkeypatch.setenv("INTEGRATION_SEGMENT_WRITE_KEY", KEY)
    return live_server.url + "/integrations/segment"


def post(host, call, body, key=KEY, **headers):
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return requests.post(
        f"{host}/v1/{call}", data=json.dumps(body), headers={"Authorization": f"Basic {auth}", **headers}, timeout=20
    )


def test_the_segment_client_groups_identifies_and_tracks(host):
    from segment.analytics import Client

    errors = []
    client = Client(write_key=KEY, host=host, sync_mode=True, max_retries=0, on_error=lambda e, b: errors.append(e))
    client.group("u1", "ACME", {"name": "Acme Ltd"})
    client.identify("u1", {"email": "uma@acme.test", "name": "Uma"})
    when = datetime.datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    client.track("u1", "Report exported", {"format": "pdf"}, timestamp=when, message_id="m-1")
    client.track("u1", "Report exported", {"format": "pdf"}, timestamp=when, message_id="m-2")  # same instant, new id
    client.track("u1", "Report exported", {"format": "pdf"}, timestamp=when, message_id="m-1")  # a retry
    client.page("u1", name="Dashboard", timestamp=when + datetime.timedelta(minutes=5), message_id="m-3")
    client.flush()
    assert errors == []
    acme = Customer.objects.get(external_id="ACME")
    assert acme.name == "Acme Ltd"
    uma = Contact.objects.get(customer=acme, external_id="u1")
    assert (uma.email, uma.name) == ("uma@acme.test", "Uma")
    events = UsageEvent.objects.filter(customer=acme).order_by("event_id")
    assert [(e.event_type, e.event_id, e.occurred_at) for e in events] == [
        ("Report exported", "m-1", when),
        ("Report exported", "m-2", when),
        ("Page viewed: Dashboard", "m-3", when + datetime.timedelta(minutes=5)),
    ]
    # In the rollups the KPIs read, as the CSV import's events are.
    assert list(UserDayActivity.objects.filter(customer=acme).values_list("day", "events")) == [
        (datetime.date(2024, 3, 5), 3)
    ]


def test_the_rudderstack_client_sends_a_gzipped_batch_and_the_customer_comes_from_the_trait(host):
    from rudderstack.analytics.client import Client

    Customer.objects.create(external_id="GLOBEX", name="Globex")
    errors = []
    client = Client(write_key=KEY, host=host, gzip=True, max_retries=0, on_error=lambda e, b: errors.append(e))
    base = datetime.datetime(2024, 4, 1, 8, tzinfo=UTC)
    for i in range(25):
        client.track(
            f"user-{i % 5}", "Invoice sent", {"company_id": "GLOBEX"},
            timestamp=base + datetime.timedelta(minutes=i), message_id=f"r-{i}",
        )  # fmt: skip
    client.flush()
    client.join()
    assert errors == []
    assert UsageEvent.objects.filter(customer__external_id="GLOBEX").count() == 25
    assert Contact.objects.filter(customer__external_id="GLOBEX").count() == 5
    # A user seen before needs neither groupId nor trait any more.
    assert post(host, "track", {"userId": "user-3", "event": "Login", "messageId": "r-99",
                                "timestamp": "2024-04-02T08:00:00Z"}).json()["accepted"] == 1  # fmt: skip
    assert UsageEvent.objects.get(event_id="r-99").customer.external_id == "GLOBEX"


def test_late_events_mark_the_snapshots_over_their_day_stale(host):
    Customer.objects.create(external_id="A", name="A")
    StaleRange.objects.all().delete()
    body = {"batch": [{"type": "track", "userId": "u", "event": "Login", "groupId": "A", "messageId": "x",
                       "timestamp": "2023-11-20T10:00:00+01:00"}]}  # fmt: skip
    assert post(host, "batch", body).status_code == 200
    assert [(s.start, s.end) for s in StaleRange.objects.all()] == [
        (datetime.date(2023, 11, 20), datetime.date(2023, 11, 21))
    ]


def test_bad_calls_are_refused_alone_and_kept_with_their_error(host):
    Customer.objects.create(external_id="A", name="A")
    good = {"type": "track", "userId": "u1", "event": "Login", "groupId": "A", "messageId": "g1",
            "timestamp": "2024-01-02T03:04:05Z"}  # fmt: skip
    body = {
        "batch": [
            good,
            {**good, "messageId": "b1", "userId": None, "anonymousId": "anon"},
            {**good, "messageId": "b2", "groupId": "NOPE"},
            {**good, "messageId": "b3", "timestamp": "yesterday"},
            {**good, "messageId": "b4", "type": "launch"},
            {**good, "messageId": "b5", "event": "x" * 101},
            {**good, "messageId": "g2", "timestamp": "2024-01-02T03:05:00Z"},
        ]
    }
    response = post(host, "batch", body)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 0)
    refused = {r["messageId"]: r["error"] for r in answer["refused"]}
    assert sorted(refused) == ["b1", "b2", "b3", "b4", "b5"]
    assert refused["b1"].startswith("no userId")
    assert "NOPE" in refused["b2"]
    assert refused["b3"].startswith("occurred_at:")
    assert refused["b4"].startswith("unknown call type 'launch'")
    assert refused["b5"] == "event_type: is 101 characters long; at most 100 are allowed"
    assert sorted(UsageEvent.objects.values_list("event_id", flat=True)) == ["g1", "g2"]
    logged = InboundEvent.objects.filter(status="refused").order_by("external_id")
    assert [(e.external_id, e.payload["messageId"]) for e in logged] == [(m, m) for m in ["b1", "b2", "b3", "b4", "b5"]]


def test_forged_and_unreadable_requests_are_refused(host, settings):
    settings.CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT = "4/m"  # an unreadable body counts as a wrong key does
    body = {"batch": [{"type": "track", "userId": "u", "event": "e", "groupId": "A"}]}
    assert post(host, "batch", body, key="wrong").status_code == 401
    assert post(host, "batch", body, key="").json()["message"].startswith("wrong or missing write key")
    broken = requests.post(f"{host}/v1/batch", data=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"}, timeout=20)
    assert (broken.status_code, broken.json()["message"].split(" (")[0]) == (400, "the body is not valid gzip")
    assert post(host, "batch", body, key="wrong").status_code == 401
    assert post(host, "batch", body).status_code == 429  # the address is locked out, even with the right key now
    assert UsageEvent.objects.count() == 0
    assert InboundEvent.objects.filter(status="refused").count() == 4


def test_gzip_bodies_may_not_expand_beyond_the_limit(host):
    bomb = gzip.compress(b"[" + b" " * (6 * 1024 * 1024) + b"]")
    response = requests.post(
        f"{host}/v1/batch", data=bomb, headers={"Content-Encoding": "gzip", "Authorization": "Basic x"}, timeout=20
    )
    assert response.status_code == 400
    assert response.json()["message"] == "the body is larger than 5,242,880 bytes"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL text cannot hold NUL; SQLite stores it")
def test_a_nul_character_is_refused_and_still_logged(host):
    Customer.objects.create(external_id="A", name="A")
    body = {"batch": [{"type": "track", "userId": "u\x00", "event": "Login", "groupId": "A", "messageId": "n1",
                       "timestamp": "2024-01-02T03:04:05Z"}]}  # fmt: skip
    answer = post(host, "batch", body).json()
    assert answer["refused"][0]["error"].startswith("user_external_id: contains a NUL character")
    assert InboundEvent.objects.get(external_id="n1").payload["userId"] == "u\ufffd"
