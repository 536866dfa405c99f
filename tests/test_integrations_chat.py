"""Chat: alerts, detractors and digests reach Slack (slack-sdk: incoming webhook and bot) and Teams.

A local HTTP server receives what the real clients send; failures are logged and retried.
"""

import datetime
from decimal import Decimal

import pytest

from alerts import services
from alerts.digest import digest_send
from alerts.models import AlertRule
from integrations.models import ChatChannel, ChatDelivery
from surveys import services as survey_services
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.integrations_support import FixtureServer
from tests.surveys_support import NOW, InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def receiver(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CSPLATFORM_BASE_URL = "https://cs.example.com"
    with FixtureServer() as server:
        server.route("POST", "/slack/team", lambda r: (200, b"ok"))
        server.route("POST", "/teams/team", lambda r: (200, b"1"))
        server.route("POST", "/api/chat.postMessage", lambda r: (200, {"ok": True, "channel": "U123", "ts": "1.2"}))
        monkeypatch.setenv("INTEGRATION_SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("INTEGRATION_SLACK_API_URL", server.url + "/api/")
        yield server


@pytest.fixture
def acme(csm):
    customer = CustomerFactory(owner=csm, name="Acme")
    SubscriptionFactory(customer=customer, started_at=D(2023, 1, 1), ended_at=D(2024, 3, 20))
    return customer


def fire(customer, django_capture_on_commit_callbacks):
    rule = AlertRule.objects.create(name="Renewal soon", kind="renewal_within", threshold=Decimal(30), enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        return services.alert_fire(rule=rule, customer=customer, day=D(2024, 3, 4), details={"renewal_on": "2024-03-20"})


def test_an_alert_goes_to_the_team_webhooks_from_the_environment(receiver, acme, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("INTEGRATION_SLACK_WEBHOOK_URL", receiver.url + "/slack/team")
    monkeypatch.setenv("INTEGRATION_TEAMS_WEBHOOK_URL", receiver.url + "/teams/team")
    fire(acme, django_capture_on_commit_callbacks)
    slack = [r.json() for r in receiver.requests if r.path == "/slack/team"]
    teams = [r.json() for r in receiver.requests if r.path == "/teams/team"]
    assert [m["text"] for m in slack] == ["Alert: Renewal soon: Acme — renewal_on: 2024-03-20"]
    assert slack[0]["blocks"][1]["elements"][0]["url"] == f"https://cs.example.com/customers/{acme.pk}/"
    card = teams[0]["attachments"][0]["content"]
    assert [b["text"] for b in card["body"]] == ["Alert: Renewal soon", "Acme — renewal_on: 2024-03-20"]
    assert sorted(ChatDelivery.objects.values_list("service", "status_code")) == [("slack_webhook", 200), ("teams", 200)]


def test_a_detractor_goes_to_the_owner_s_own_slack_by_bot_and_the_team_channel(
    receiver, acme, csm, outsider, django_capture_on_commit_callbacks
):
    ChatChannel.objects.create(name="#cs-team", service="slack_webhook", target=receiver.url + "/slack/team")
    ChatChannel.objects.create(name="Carla", service="slack_bot", target="U123", user=csm)
    ChatChannel.objects.create(name="Otto", service="slack_bot", target="U999", user=outsider)
    ChatChannel.objects.create(name="quiet", service="teams", target=receiver.url + "/teams/team", detractors=False)
    invitation = InvitationFactory(survey=SurveyFactory(survey_type="nps"), contact__customer=acme, contact__name="Uma")
    with django_capture_on_commit_callbacks(execute=True):
        survey_services.response_record(invitation=invitation, score=3, comment="Too slow", now=NOW)
    bot = [r for r in receiver.requests if r.path == "/api/chat.postMessage"]
    assert len(bot) == 1  # Carla owns Acme; Otto does not
    assert bot[0].headers["Authorization"] == "Bearer xoxb-test"
    assert (bot[0].json()["channel"], bot[0].json()["text"]) == ("U123", "Unhappy answer: NPS 3 from Uma at Acme: “Too slow”")
    assert [r.json()["text"] for r in receiver.requests if r.path == "/slack/team"] == [
        "Unhappy answer: NPS 3 from Uma at Acme: “Too slow”"
    ]
    assert not [r for r in receiver.requests if r.path == "/teams/team"]


def test_a_digest_goes_to_its_csm_and_as_a_summary_to_the_team(receiver, acme, csm, django_capture_on_commit_callbacks):
    ChatChannel.objects.create(name="#cs-team", service="slack_webhook", target=receiver.url + "/slack/team")
    ChatChannel.objects.create(name="Carla", service="teams", target=receiver.url + "/teams/team", user=csm)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send(user=csm, week_start=D(2024, 3, 4)) is True
    with django_capture_on_commit_callbacks(execute=True):
        digest_send(user=csm, week_start=D(2024, 3, 4))  # claimed already: nothing again
    teams = [r.json()["attachments"][0]["content"]["body"] for r in receiver.requests if r.path == "/teams/team"]
    assert [[b["text"] for b in body] for body in teams] == [
        ["Your week", "0 at risk, 0 overdue tasks, 1 renewals within 30 days"]
    ]
    name = csm.get_full_name() or csm.username
    assert [r.json()["text"] for r in receiver.requests if r.path == "/slack/team"] == [
        f"Week of {name}: 0 at risk, 0 overdue tasks, 1 renewals within 30 days"
    ]


def test_a_failing_receiver_is_logged_and_retried(receiver, acme, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    receiver.route("POST", "/slack/down", lambda r: (500, b"internal_error"))
    ChatChannel.objects.create(name="#down", service="slack_webhook", target=receiver.url + "/slack/down")
    fire(acme, django_capture_on_commit_callbacks)
    delivery = ChatDelivery.objects.get()
    assert (delivery.attempts, delivery.status_code, delivery.delivered_at) == (6, None, None)  # 1 + 5 retries
    assert delivery.error == "HTTP 500: internal_error"
