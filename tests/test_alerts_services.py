"""Alert rules: what each kind matches, firing (task, email, signed webhook, playbook), no duplicates, dry run."""

import datetime
import http.server
import json
import threading
from decimal import Decimal

import pytest
from celery.exceptions import Retry

from accounts.models import Task
from alerts import conditions, services, webhooks
from alerts.dryrun import dry_run
from alerts.models import Alert, AlertRule, Playbook, PlaybookRun, PlaybookStep, Webhook, WebhookDelivery
from alerts.playbooks import playbook_advance, playbook_start
from alerts.tasks import evaluate_daily, playbooks_due, webhook_deliver
from metrics.health_versions import default_model
from metrics.models import HealthScore, UserDayActivity
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory, SurveyResponseFactory, TicketFactory

D = datetime.date
DAY = D(2024, 3, 4)
UTC = datetime.UTC


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def customer(db, csm):
    customer = CustomerFactory(owner=csm, name="Acme")
    SubscriptionFactory(customer=customer, started_at=D(2023, 1, 1), ended_at=D(2024, 3, 20))
    return customer


def _score(customer, day, score, band):
    HealthScore.objects.create(customer=customer, day=day, model=default_model(), score=score, band=band,
                               computed_at=datetime.datetime(2024, 3, 4, tzinfo=UTC))  # fmt: skip


def test_band_drop_and_score_drop_compare_with_a_week_before(customer):
    _score(customer, DAY - datetime.timedelta(days=7), Decimal(72), "healthy")
    _score(customer, DAY, Decimal(55), "neutral")
    assert conditions.matches("band_drop", 0, DAY, [customer.pk])[customer.pk]["to_band"] == "neutral"
    assert customer.pk in conditions.matches("score_drop", 15, DAY, [customer.pk])
    assert conditions.matches("score_drop", 20, DAY, [customer.pk]) == {}


def test_usage_drop_compares_user_days_week_over_week(customer):
    contact = ContactFactory(customer=customer)
    for day in range(1, 8):  # 7 user-days in the week before, 3 in the last week
        UserDayActivity.objects.create(customer=customer, contact=contact, day=DAY - datetime.timedelta(days=7 + day), events=1)
    for day in range(1, 4):
        UserDayActivity.objects.create(customer=customer, contact=contact, day=DAY - datetime.timedelta(days=day), events=1)
    assert conditions.matches("usage_drop", 50, DAY, [customer.pk])[customer.pk]["drop_pct"] == 57
    assert conditions.matches("usage_drop", 60, DAY, [customer.pk]) == {}


def test_renewal_detractor_and_old_open_ticket(customer):
    assert conditions.matches("renewal", 16, DAY, [customer.pk]) == {customer.pk: {"renewal_on": "2024-03-20"}}
    assert conditions.matches("renewal", 15, DAY, [customer.pk]) == {}
    SurveyResponseFactory(customer=customer, score=4, comment="slow", responded_at=datetime.datetime(2024, 3, 1, tzinfo=UTC))
    SurveyResponseFactory(customer=customer, score=9, responded_at=datetime.datetime(2024, 3, 2, tzinfo=UTC))
    assert conditions.matches("detractor", 0, DAY, [customer.pk]) == {customer.pk: {"score": 4, "comment": "slow"}}
    TicketFactory(customer=customer, opened_at=datetime.datetime(2024, 2, 1, tzinfo=UTC))
    TicketFactory(customer=customer, opened_at=datetime.datetime(2024, 2, 1, tzinfo=UTC),
                  resolved_at=datetime.datetime(2024, 3, 1, tzinfo=UTC))  # fmt: skip
    assert conditions.matches("ticket_open", 30, DAY, [customer.pk])[customer.pk]["open_tickets"] == 1
    assert conditions.matches("ticket_open", 40, DAY, [customer.pk]) == {}


def test_an_unknown_kind_is_an_error(customer):
    with pytest.raises(ValueError):
        conditions.matches("weather", 0, DAY, [customer.pk])


class Receiver(http.server.BaseHTTPRequestHandler):
    """A local webhook receiver: fails the first `failures` requests, records every request."""

    failures = 0
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        status = 500 if len(type(self).received) <= type(self).failures else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.failures = [], 0
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def rule(customer, receiver):
    webhook = Webhook.objects.create(name="Ops", url=receiver[1])
    return AlertRule.objects.create(name="Renewal soon", kind="renewal", threshold=30, enabled=True, webhook=webhook)


def test_a_firing_alert_makes_a_task_an_email_and_a_signed_webhook(rule, customer, csm, receiver, eager, mailoutbox,
                                                                   django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate_daily("2024-03-04") == 1
    alert = Alert.objects.get()
    assert (alert.task.assignee, alert.task.source, alert.task.customer) == (csm, "alert", customer)
    assert [m.to for m in mailoutbox] == [[csm.email]] and "Acme" in mailoutbox[0].subject
    headers, body = receiver[0].received[0]
    assert webhooks.verify(rule.webhook.secret, headers, body)
    assert not webhooks.verify("whsec_" + "A" * 32, headers, body)
    assert headers["webhook-signature"].startswith("v1,") and rule.webhook.secret.startswith("whsec_")
    assert json.loads(body)["data"]["customer"]["name"] == "Acme"
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_running_twice_fires_no_duplicate_while_the_alert_is_open(rule, customer, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_daily("2024-03-04")
        evaluate_daily("2024-03-04")
        evaluate_daily("2024-03-05")
    assert Alert.objects.count() == 1 and Task.objects.count() == 1
    assert services.alert_fire(rule=rule, customer=customer, day=DAY, details={}) is None  # the constraint holds
    Task.objects.update(completed_at=datetime.datetime(2024, 3, 5, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_daily("2024-03-06")
    assert Alert.objects.filter(closed_at__isnull=True).count() == 1 and Alert.objects.count() == 2


def test_a_failed_webhook_is_retried_and_every_attempt_logged(rule, receiver, eager):
    receiver[0].failures = 2
    delivery = webhooks.delivery_create(webhook=rule.webhook, event_type="alert.fired", data={"x": 1})
    with pytest.raises(Retry) as retry:  # autoretry turns the failure into a scheduled retry with backoff
        webhook_deliver.apply(args=[delivery.pk])
    # Full jitter: the first retry waits a random 0–30 s (retry_backoff=30), never longer.
    assert isinstance(retry.value.exc, webhooks.WebhookError) and 0 <= retry.value.when <= 30
    with pytest.raises(Retry):
        webhook_deliver.apply(args=[delivery.pk], retries=1)
    assert webhook_deliver.apply(args=[delivery.pk], retries=2).get() == 200  # the worker's third attempt
    assert webhook_deliver.apply(args=[delivery.pk], retries=3).get() == 200  # delivered: not sent again
    assert len(receiver[0].received) == 3
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code, delivery.error) == (3, 200, "")
    ids = {headers["webhook-id"] for headers, _body in receiver[0].received}
    assert ids == {delivery.message_id}  # the same message id on every retry


def test_an_unreachable_webhook_raises_for_celery_to_retry(customer):
    webhook = Webhook.objects.create(name="Down", url="http://127.0.0.1:9/")
    delivery = webhooks.delivery_create(webhook=webhook, event_type="alert.fired", data={})
    with pytest.raises(webhooks.WebhookError):
        webhooks.delivery_attempt(delivery)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.error and delivery.delivered_at is None


def test_a_rule_is_enabled_only_after_a_dry_run(customer):
    rule = AlertRule.objects.create(name="r", kind="detractor")
    with pytest.raises(services.RuleError):
        services.rule_enable(rule)
    rule.dry_run_at = datetime.datetime(2024, 3, 1, tzinfo=UTC)
    assert services.rule_enable(rule).enabled


@pytest.fixture
def playbook(db, receiver):
    playbook = Playbook.objects.create(name="Save the account")
    webhook = Webhook.objects.create(name="CRM", url=receiver[1])
    for position, (kind, title, days) in enumerate([("task", "Call the sponsor", 2), ("wait", "", 3),
                                                    ("email", "Follow up", 0), ("webhook", "", 0)]):  # fmt: skip
        PlaybookStep.objects.create(playbook=playbook, position=position, kind=kind, title=title, days=days,
                                    webhook=webhook if kind == "webhook" else None)  # fmt: skip
    return playbook


def test_a_playbook_runs_its_steps_and_waits(playbook, customer, csm, mailoutbox, eager, receiver,
                                             django_capture_on_commit_callbacks):  # fmt: skip
    start = datetime.datetime(2024, 3, 4, 9, tzinfo=UTC)
    run = playbook_start(playbook=playbook, customer=customer, user=csm, now=start)
    assert (run.status, run.next_step) == ("waiting", 2)
    assert Task.objects.get(source="playbook").due_on == D(2024, 3, 6)
    assert playbook_advance(run.pk, now=start + datetime.timedelta(days=1)).status == "waiting"  # still waiting
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        run = playbook_advance(run.pk, now=start + datetime.timedelta(days=3))
    assert run.status == "done" and [e["kind"] for e in run.log] == ["task", "wait", "email", "webhook"]
    assert [m.to for m in mailoutbox] == [[csm.email]]
    assert len(receiver[0].received) == 1
    playbook_advance(run.pk, now=start + datetime.timedelta(days=9))
    assert Task.objects.count() == 1 and len(mailoutbox) == 1  # a finished run does nothing again


def test_the_hourly_task_resumes_due_runs(playbook, customer):
    run = playbook_start(playbook=playbook, customer=customer, now=datetime.datetime(2020, 1, 1, tzinfo=UTC))
    assert playbooks_due() == 1
    run.refresh_from_db()
    assert run.status == "done"


def test_an_alert_starts_the_rules_playbook(rule, playbook, customer, eager, django_capture_on_commit_callbacks):
    rule.playbook = playbook
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_daily("2024-03-04")
    assert PlaybookRun.objects.get().alert == Alert.objects.get()


def test_dry_run_counts_weekly_firings_precision_and_load(db, csm):
    churner, stayer = CustomerFactory(owner=csm, name="Leaves"), CustomerFactory(owner=csm, name="Stays")
    SubscriptionFactory(customer=churner, started_at=D(2023, 1, 1), ended_at=D(2024, 1, 1))
    SubscriptionFactory(customer=stayer, started_at=D(2023, 1, 1))
    for customer in (churner, stayer):
        TicketFactory(customer=customer, opened_at=datetime.datetime(2023, 10, 1, tzinfo=UTC))
    result = dry_run("ticket_open", 14, D(2024, 3, 4), weeks=20)
    assert len(result["weeks"]) == 20
    assert result["weeks"][0]["fired"] == 2 and result["weeks"][-1]["fired"] == 1  # the churner stopped paying
    assert result["tasks"] == 2  # one per customer: an open alert is not fired again
    assert result["precision"] == 0.5 and result["base_churn_rate"] == 0.5
    assert result["load"] == [{"csm": "carla", "tasks": 2, "per_week": 0.1}]
    assert {c["name"]: c["churned"] for c in result["customers"]} == {"Leaves": True, "Stays": False}
