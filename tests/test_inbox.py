"""The alerts inbox: who sees which alerts, acknowledge, snooze, resolve (with the task), the count in the
navigation, HTMX answers; and when the rules next run, shown on the rule pages."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Task
from alerts import inbox
from alerts.models import Alert, AlertRule
from alerts.schedule import next_evaluation
from alerts.services import alert_fire
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2024, 6, 10)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2024, 6, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def rule():
    return AlertRule.objects.create(name="Old tickets", kind="ticket_open", threshold=14, send_email=False)


@pytest.fixture
def alerts(csm, outsider, rule):
    mine = CustomerFactory(owner=csm, name="Mine")
    theirs = CustomerFactory(owner=outsider, name="Theirs")
    SubscriptionFactory(customer=mine, started_at=D(2024, 1, 1), mrr=Decimal(300))
    SubscriptionFactory(customer=theirs, started_at=D(2024, 1, 1), mrr=Decimal(50))
    a = alert_fire(rule=rule, customer=mine, day=D(2024, 6, 3), details={"open_tickets": 2, "oldest_opened_on": "2024-05-01"})
    b = alert_fire(rule=rule, customer=theirs, day=D(2024, 6, 9), details={"open_tickets": 1, "oldest_opened_on": "2024-05-20"})
    return a, b


def test_a_csm_sees_the_alerts_of_their_customers_with_age_and_mrr_and_a_manager_sees_all(csm, manager, alerts):
    rows = inbox.inbox_rows(csm, TODAY)
    assert [(r.alert.customer.name, r.age_days, r.mrr) for r in rows] == [("Mine", 7, Decimal(300))]
    assert [r.alert.customer.name for r in inbox.inbox_rows(manager, TODAY)] == ["Theirs", "Mine"]
    assert (inbox.inbox_count(csm, TODAY), inbox.inbox_count(manager, TODAY)) == (1, 2)


def test_acknowledge_snooze_and_resolve_change_the_inbox(csm, alerts):
    mine, _ = alerts
    inbox.alert_acknowledge(alert=mine, user=csm)
    assert inbox.inbox_count(csm, TODAY) == 0  # acknowledged: no longer waiting, still open
    assert [r.alert for r in inbox.inbox_rows(csm, TODAY, "acknowledged")] == [mine]
    with pytest.raises(inbox.InboxError):
        inbox.alert_snooze(alert=mine, until=TODAY, today=TODAY)
    inbox.alert_snooze(alert=mine, until=D(2024, 6, 20), today=TODAY)
    assert inbox.inbox_rows(csm, TODAY) == [] and [r.alert for r in inbox.inbox_rows(csm, TODAY, "snoozed")] == [mine]
    assert Task.objects.get(pk=mine.task_id).due_on == D(2024, 6, 20)  # the task waits as long
    assert [r.alert for r in inbox.inbox_rows(csm, D(2024, 6, 20))] == [mine]  # back on the day
    inbox.alert_resolve(alert=mine, user=csm, note="Called them; tickets closed.")
    mine.refresh_from_db()
    task = Task.objects.get(pk=mine.task_id)
    assert mine.closed_at is not None and mine.closed_by == csm and task.completed_at is not None
    assert task.details.endswith("Called them; tickets closed.")
    closed_at = mine.closed_at
    inbox.alert_resolve(alert=mine, user=csm, note="again")  # a second resolve changes nothing
    mine.refresh_from_db()
    assert mine.closed_at == closed_at and not Task.objects.get(pk=mine.task_id).details.endswith("again")


def test_the_inbox_page_and_its_actions_in_place(client, csm, alerts):
    mine, theirs = alerts
    client.force_login(csm)
    page = client.get("/inbox/").content.decode()
    assert "Mine" in page and "Theirs" not in page and "2 ticket(s) open, the oldest since 2024-05-01." in page
    assert 'id="inbox-badge"' in page and ">1<span class=\"visually-hidden\"> waiting" in page
    response = client.post(f"/inbox/{mine.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "inbox-changed" in response["HX-Trigger"]
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="alert-{mine.pk}"') and "acknowledged by carla" in body
    assert 'id="inbox-badge"' in client.get("/inbox/count/").content.decode()
    response = client.post(f"/inbox/{mine.pk}/snooze/", {"until": "2024-06-01"}, HTTP_HX_REQUEST="true")
    assert "Pick a day after today." in response.content.decode()
    response = client.post(f"/inbox/{mine.pk}/resolve/", {"note": "done"}, HTTP_HX_REQUEST="true")
    assert "inbox-gone" in response.content.decode()
    assert Alert.objects.get(pk=mine.pk).closed_at is not None


def test_nobody_acts_on_an_alert_of_a_customer_they_cannot_see(client, csm, alerts):
    _, theirs = alerts
    client.force_login(csm)
    for action in ("acknowledge", "snooze", "resolve"):
        assert client.post(f"/inbox/{theirs.pk}/{action}/", {"until": "2024-07-01"}).status_code == 404
    assert Alert.objects.get(pk=theirs.pk).closed_at is None
    assert client.get(f"/inbox/{theirs.pk}/resolve/").status_code == 405


def test_without_javascript_an_action_redirects_with_a_message(client, csm, alerts):
    mine, _ = alerts
    client.force_login(csm)
    response = client.post(f"/inbox/{mine.pk}/snooze/", {"until": "2024-06-17"}, follow=True)
    assert "Snoozed until 2024-06-17: Mine." in response.content.decode()


def test_the_rules_next_run_comes_from_the_beat_schedule(client, manager, rule):
    assert next_evaluation(datetime.datetime(2024, 6, 10, 9, 0, tzinfo=datetime.UTC)) == datetime.datetime(2024, 6, 11, 4, 0, tzinfo=datetime.UTC)
    assert next_evaluation(datetime.datetime(2024, 6, 10, 3, 0, tzinfo=datetime.UTC)) == datetime.datetime(2024, 6, 10, 4, 0, tzinfo=datetime.UTC)
    client.force_login(manager)
    page = client.get(f"/alerts/rules/{rule.pk}/").content.decode()
    assert "Once enabled, it first runs 11 Jun 2024, 04:00 UTC" in page
    assert "the next run is 11 Jun 2024, 04:00 UTC" in client.get("/alerts/rules/").content.decode()


def test_a_dry_run_enables_the_enable_button_in_place(client, admin_user, rule):
    client.force_login(admin_user)
    assert 'disabled aria-describedby="enable-help"' in client.get(f"/alerts/rules/{rule.pk}/").content.decode()
    body = client.post(f"/alerts/rules/{rule.pk}/", {"weeks": 4}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="rule-actions" class="head-actions" hx-swap-oob="true"' in body
    actions = body.split('id="rule-actions"')[1].split("</div>")[0]
    assert ">Enable</button>" in actions and "disabled" not in actions


def test_a_manager_reads_the_inbox_but_acts_on_no_alert(client, manager, alerts):
    mine, _theirs = alerts
    client.force_login(manager)
    html = client.get("/inbox/").content.decode()
    assert "Mine" in html and 'method="post"' not in html.split("</header>", 1)[1]
    for action, data in (("acknowledge", {}), ("snooze", {"until": "2024-06-20"}), ("resolve", {"note": "x"})):
        assert client.post(f"/inbox/{mine.pk}/{action}/", data).status_code == 403, action
    mine.refresh_from_db()
    assert (mine.acknowledged_at, mine.snoozed_until, mine.closed_at) == (None, None, None)


def test_a_manager_reads_every_alert_but_acting_on_one_is_refused(client, manager, alerts):
    mine, _ = alerts
    client.force_login(manager)
    page = client.get("/inbox/").content.decode()
    assert "Mine" in page and "Theirs" in page and "Read only" in page and ">Acknowledge<span" not in page
    assert client.post(f"/inbox/{mine.pk}/acknowledge/").status_code == 403
    assert Alert.objects.get(pk=mine.pk).acknowledged_at is None
