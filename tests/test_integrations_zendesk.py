"""Zendesk: the signed webhook and zendesk_sync read tickets through zenpy from a local Zendesk-shaped server.

A solved ticket invites its contact to the transactional CSAT survey through
accounts.signals.ticket_resolved, once; forged webhooks are refused and logged.
"""

import base64
import datetime
import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import Contact, Customer, Ticket
from integrations.models import InboundEvent
from surveys.models import Survey, SurveyInvitation
from tests.integrations_support import FixtureServer
from tests.surveys_support import SurveyFactory

pytestmark = pytest.mark.django_db

SECRET = "zendesk-signing-secret"
URL = "/integrations/zendesk/webhook"
ZENDESK = "https://acme.zendesk.com"  # what zenpy addresses; the client sends it to the local server
UTC = datetime.UTC


def ticket(ticket_id=101, status="open", updated="2024-05-02T10:00:00Z", **fields):
    return {
        "id": ticket_id, "subject": "Export fails", "status": status, "priority": "high",
        "created_at": "2024-05-02T09:00:00Z", "updated_at": updated, "via": {"channel": "email"},
        "organization_id": 7, "requester_id": 9, **fields,
    }  # fmt: skip


def metrics(ticket_id=101, solved_at=None, replies=0, reply_minutes=45):
    return {"ticket_metric": {"id": ticket_id * 10, "ticket_id": ticket_id, "solved_at": solved_at, "replies": replies,
                              "reply_time_in_minutes": {"calendar": reply_minutes, "business": reply_minutes}}}  # fmt: skip


@pytest.fixture
def zendesk(monkeypatch):
    with FixtureServer() as server:
        server.route("GET", "/api/v2/organizations/7.json", {"organization": {"id": 7, "name": "Acme", "external_id": "ACME"}})
        server.route("GET", "/api/v2/users/9.json", {"user": {"id": 9, "name": "Uma", "email": "Uma@Acme.test"}})
        server.route("GET", "/api/v2/tickets/101.json", {"ticket": ticket()})
        server.route("GET", "/api/v2/tickets/101/metrics.json", metrics())
        for name, value in {"SUBDOMAIN": "acme", "EMAIL": "agent@acme.test", "API_TOKEN": "tok123",
                            "WEBHOOK_SECRET": SECRET, "URL": server.url}.items():  # fmt: skip
            monkeypatch.setenv(f"INTEGRATION_ZENDESK_{name}", value)
        yield server


@pytest.fixture
def acme():
    customer = Customer.objects.create(external_id="ACME", name="Acme")
    Contact.objects.create(customer=customer, external_id="u-uma", email="uma@acme.test", language="en")
    return customer


def sign(body: str, secret=SECRET, at=None):
    timestamp = at or datetime.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(hmac.new(secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()).decode()
    return {"HTTP_X_ZENDESK_WEBHOOK_SIGNATURE": signature, "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP": timestamp}


def deliver(client, payload, **kwargs):
    body = json.dumps(payload)
    return client.post(URL, data=body, content_type="application/json", **sign(body, **kwargs))


def test_a_ticket_s_life_through_the_webhook_ends_in_one_csat_invitation(client, zendesk, acme, django_capture_on_commit_callbacks):
    SurveyFactory(survey_type="csat", target=Survey.Target.TRANSACTIONAL)
    assert deliver(client, {"ticket_id": "101", "event": "created"}).json() == {"success": True, "result": "ticket applied"}
    stored = Ticket.objects.get(external_id="101")
    assert (stored.customer, stored.contact.external_id) == (acme, "u-uma")  # found by email, any case
    assert stored.first_response_at == datetime.datetime(2024, 5, 2, 9, 45, tzinfo=UTC)
    assert (stored.resolved_at, stored.contacts_count, stored.channel, stored.priority) == (None, None, "email", "high")
    # Solved after one reply: first contact resolution, and the contact is invited once.
    zendesk.route("GET", "/api/v2/tickets/101.json", {"ticket": ticket(status="solved", updated="2024-05-02T12:00:00Z")})
    zendesk.route("GET", "/api/v2/tickets/101/metrics.json", metrics(solved_at="2024-05-02T11:30:00Z", replies=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"ticket_id": 101, "event": "solved"}).json()["result"] == "ticket solved"
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"ticket_id": 101, "event": "solved"}).json()["result"] == "ticket applied"  # repeated
    stored.refresh_from_db()
    assert (stored.resolved_at, stored.contacts_count) == (datetime.datetime(2024, 5, 2, 11, 30, tzinfo=UTC), 1)
    assert SurveyInvitation.objects.filter(ticket=stored).count() == 1
    assert len(mail.outbox) == 1
    # zenpy authenticated as the agent with the API token.
    expected = "Basic " + base64.b64encode(b"agent@acme.test/token:tok123").decode()
    assert {r.headers["Authorization"] for r in zendesk.requests} == {expected}


def test_an_older_state_does_not_overwrite_a_newer_one(client, zendesk, acme):
    zendesk.route("GET", "/api/v2/tickets/101.json", {"ticket": ticket(status="solved", updated="2024-05-03T00:00:00Z")})
    zendesk.route("GET", "/api/v2/tickets/101/metrics.json", metrics(solved_at="2024-05-02T23:00:00Z", replies=3))
    deliver(client, {"ticket_id": 101})
    zendesk.route("GET", "/api/v2/tickets/101.json", {"ticket": ticket(status="open", updated="2024-05-02T10:00:00Z")})
    assert deliver(client, {"ticket_id": 101}).json()["result"] == "older than the state applied already"
    assert Ticket.objects.get(external_id="101").contacts_count == 3


def test_forged_webhooks_and_unknown_organisations_are_refused_and_logged(client, zendesk, acme):
    forged = deliver(client, {"ticket_id": 101}, secret="guessed")
    assert forged.status_code == 401
    old = deliver(client, {"ticket_id": 101}, at="2024-01-01T00:00:00Z")
    assert old.status_code == 401
    zendesk.route("GET", "/api/v2/organizations/7.json", {"organization": {"id": 7, "name": "Initech", "external_id": None}})
    answer = deliver(client, {"ticket_id": 101}).json()
    assert answer["success"] is False
    assert answer["message"] == (
        "the organisation 'Initech' (external id not set) is no customer: set its external_id to the customer's"
    )
    assert not Ticket.objects.exists()
    refused = InboundEvent.objects.filter(kind="zendesk", status="refused").order_by("pk")
    assert [e.payload for e in refused] == [None, None, {"ticket_id": 101}]


def test_zendesk_sync_reads_the_incremental_export_and_continues_where_it_stopped(zendesk, acme):
    pages = {
        None: {"tickets": [ticket(101), ticket(102, status="solved", updated="2024-05-04T08:00:00Z")],
               "after_url": "{url}/api/v2/incremental/tickets/cursor.json?cursor=c2", "end_of_stream": False},
        "c2": {"tickets": [ticket(103, organization_id=None, updated="2024-05-05T08:00:00Z")],
               "after_url": None, "end_of_stream": True},
    }  # fmt: skip

    def export(request):
        page = json.loads(json.dumps(pages[request.query.get("cursor", [None])[0]]).replace("{url}", ZENDESK))
        return 200, page

    zendesk.route("GET", "/api/v2/incremental/tickets/cursor.json", export)
    for i in (102, 103):
        zendesk.route("GET", f"/api/v2/tickets/{i}/metrics.json", metrics(i, solved_at="2024-05-04T07:00:00Z", replies=2))
    call_command("zendesk_sync")
    assert sorted(Ticket.objects.values_list("external_id", "contacts_count")) == [("101", None), ("102", 2)]
    assert InboundEvent.objects.get(kind="zendesk", status="refused").external_id == "103"  # no organisation
    first = [r for r in zendesk.requests if r.path.endswith("cursor.json")][0]
    assert first.query["start_time"] == ["0"]
    call_command("zendesk_sync")
    again = [r for r in zendesk.requests if r.path.endswith("cursor.json") and "start_time" in r.query][-1]
    assert again.query["start_time"] == [str(int(datetime.datetime(2024, 5, 5, 8, tzinfo=UTC).timestamp()))]


def test_the_hourly_task_syncs_only_once_zendesk_is_set_up(zendesk, acme, monkeypatch):
    from integrations.tasks import zendesk_sync

    zendesk.route("GET", "/api/v2/incremental/tickets/cursor.json",
                  {"tickets": [ticket(101)], "after_url": None, "end_of_stream": True})  # fmt: skip
    assert zendesk_sync.delay().get() == {"applied": 1, "skipped": 0, "refused": 0}
    monkeypatch.delenv("INTEGRATION_ZENDESK_API_TOKEN")
    assert zendesk_sync.delay().get() is None
