"""Usage events with an optional event_id: identical rows are one event only when no id is given.

Runs on both write paths (SQLite's Python path, PostgreSQL's COPY staging path), the REST
API and a mix of events with and without ids in one file.
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import UsageEvent
from tests.import_support import at, customer, run

pytestmark = pytest.mark.django_db

HEADER = "customer_external_id,user_external_id,event_type,occurred_at,session_id,event_id\n"


def stored():
    return sorted(UsageEvent.objects.values_list("contact__external_id", "event_type", "occurred_at", "event_id"))


def test_identical_rows_with_different_ids_are_two_events_and_without_an_id_one(tmp_path):
    customer("A")
    result = run(
        "usage_events",
        tmp_path,
        HEADER
        + "A,u1,click,2024-02-01T09:00:00Z,,m-1\n"
        + "A,u1,click,2024-02-01T09:00:00Z,,m-2\n"  # same instant and type, another id: counts
        + "A,u1,click,2024-02-01T09:00:00Z,,m-1\n"  # the same id again: a duplicate
        + "A,u1,click,2024-02-01T09:00:00Z,,\n"  # no id: its own natural key
        + "A,u1,click,2024-02-01T09:00:00Z,,\n",  # …and this repeats it
    )
    assert result.errors == []
    assert (result.created, result.updated) == (3, 2)
    instant = at("2024-02-01T09:00:00")
    assert stored() == [("u1", "click", instant, ""), ("u1", "click", instant, "m-1"), ("u1", "click", instant, "m-2")]


def test_a_re_import_with_ids_adds_nothing_and_an_id_is_per_customer(tmp_path):
    customer("A"), customer("B")
    text = HEADER + "A,u1,login,2024-02-01T09:00:00Z,,id-7\nB,u9,login,2024-02-03T09:00:00Z,,id-7\n"
    first = run("usage_events", tmp_path, text)
    again = run("usage_events", tmp_path, text)
    assert (first.created, first.updated) == (2, 0)
    assert (again.created, again.updated) == (0, 2)
    # Same id, other instant: still the event already stored (the id decides, not the content).
    moved = run("usage_events", tmp_path, HEADER + "A,u1,login,2024-03-01T09:00:00Z,,id-7\n")
    assert (moved.created, moved.updated) == (0, 1)
    assert UsageEvent.objects.count() == 2


def test_an_event_id_longer_than_100_characters_is_refused(tmp_path):
    customer("A")
    result = run("usage_events", tmp_path, HEADER + f"A,u1,login,2024-02-01T09:00:00Z,,{'x' * 101}\n")
    assert [f"{e.line}/{e.column}: {e.message}" for e in result.errors] == [
        "2/event_id: is 101 characters long; at most 100 are allowed"
    ]
    assert UsageEvent.objects.count() == 0


def test_the_api_takes_event_ids_and_counts_repeats_as_duplicates(csm):
    acme = customer("A", owner=csm)
    client = APIClient()
    client.force_authenticate(csm)
    event = {"customer": acme.pk, "user_external_id": "u1", "event_type": "click", "occurred_at": "2024-02-01T09:00:00Z"}
    body = [{**event, "event_id": "a"}, {**event, "event_id": "b"}, {**event, "event_id": "a"}, event, event]
    response = client.post("/api/v1/usage-events/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"received": 5, "created": 3, "duplicates": 2}
    listed = client.get("/api/v1/usage-events/").json()["results"]
    assert sorted(e["event_id"] for e in listed) == ["", "a", "b"]
