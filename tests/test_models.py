"""Model invariants: database constraints, querysets, Task.is_overdue and roles.role_of."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from accounts.models import Subscription
from accounts.roles import role_of
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 1)
NOON = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)


def assert_rejected(create):
    """Assert that the database refuses the row `create()` writes."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- constraints -------------------------------------------------------------------------


def test_subscription_must_end_after_it_starts():
    assert_rejected(lambda: f.SubscriptionFactory(started_at=DAY, ended_at=DAY))
    assert_rejected(lambda: f.SubscriptionFactory(started_at=DAY, ended_at=DAY - datetime.timedelta(days=1)))
    f.SubscriptionFactory(started_at=DAY, ended_at=DAY + datetime.timedelta(days=1))


def test_subscription_mrr_cannot_be_negative():
    assert_rejected(lambda: f.SubscriptionFactory(mrr=Decimal("-0.01")))
    f.SubscriptionFactory(mrr=Decimal("0"), is_trial=True)


def test_subscription_external_id_is_unique():
    f.SubscriptionFactory(external_id="inv-1")
    assert_rejected(lambda: f.SubscriptionFactory(external_id="inv-1"))


def test_subscription_natural_key_is_unique_when_external_id_is_blank():
    first = f.SubscriptionFactory(external_id="", plan="Pro", started_at=DAY)
    assert_rejected(lambda: f.SubscriptionFactory(customer=first.customer, external_id="", plan="Pro", started_at=DAY))


def test_subscription_natural_key_may_repeat_when_external_ids_differ():
    first = f.SubscriptionFactory(external_id="inv-1", plan="Pro", started_at=DAY)
    f.SubscriptionFactory(customer=first.customer, external_id="inv-2", plan="Pro", started_at=DAY)
    assert Subscription.objects.count() == 2


def test_contact_external_id_is_unique_per_customer():
    contact = f.ContactFactory(external_id="u1")
    f.ContactFactory(external_id="u1")  # another customer's user may share the id
    assert_rejected(lambda: f.ContactFactory(customer=contact.customer, external_id="u1"))


def test_usage_event_is_unique_per_contact_instant_and_type():
    event = f.UsageEventFactory()
    assert_rejected(
        lambda: f.UsageEventFactory(
            customer=event.customer, contact=event.contact, occurred_at=event.occurred_at, event_type=event.event_type
        )
    )


def test_ticket_cannot_be_resolved_before_it_was_opened():
    assert_rejected(lambda: f.TicketFactory(opened_at=NOON, resolved_at=NOON - datetime.timedelta(seconds=1)))
    f.TicketFactory(opened_at=NOON, resolved_at=NOON)


def test_ticket_cannot_be_answered_before_it_was_opened():
    assert_rejected(lambda: f.TicketFactory(opened_at=NOON, first_response_at=NOON - datetime.timedelta(seconds=1)))


def test_ticket_contacts_count_is_at_least_one():
    assert_rejected(lambda: f.TicketFactory(contacts_count=0))
    f.TicketFactory(contacts_count=1)


def test_cost_month_is_the_first_day_of_a_month():
    assert_rejected(lambda: f.CostEntryFactory(month=datetime.date(2024, 3, 2)))


def test_cost_month_and_category_are_unique():
    f.CostEntryFactory(month=DAY, category="sales")
    assert_rejected(lambda: f.CostEntryFactory(month=DAY, category="sales"))
    f.CostEntryFactory(month=DAY, category="programs")


def test_lead_cannot_convert_before_it_was_created():
    assert_rejected(lambda: f.LeadFactory(created_at=NOON, converted_at=NOON - datetime.timedelta(days=1)))
    f.LeadFactory(created_at=NOON, converted_at=NOON)


@pytest.mark.parametrize(("survey_type", "score"), [("nps", 11), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8)])
def test_survey_score_off_its_scale_is_rejected(survey_type, score):
    assert_rejected(lambda: f.SurveyResponseFactory(survey_type=survey_type, score=score))


@pytest.mark.parametrize(
    ("survey_type", "score"), [("nps", 0), ("nps", 10), ("csat", 1), ("csat", 5), ("ces", 1), ("ces", 7)]
)
def test_survey_score_on_its_scale_is_accepted(survey_type, score):
    assert f.SurveyResponseFactory(survey_type=survey_type, score=score).pk


def test_kpi_snapshot_is_unique_per_metric_scope_period_and_version():
    snapshot = f.KpiSnapshotFactory()
    fields = ("metric", "scope", "period_start", "period_end", "definition_version")
    same = {name: getattr(snapshot, name) for name in fields}
    assert_rejected(lambda: f.KpiSnapshotFactory(**same))
    f.KpiSnapshotFactory(**{**same, "definition_version": "2"})


def test_kpi_snapshot_period_must_end_after_it_starts():
    assert_rejected(lambda: f.KpiSnapshotFactory(period_start=DAY, period_end=DAY))


def test_stale_range_must_end_after_it_starts():
    assert_rejected(lambda: f.StaleRangeFactory(start=DAY, end=DAY))


def test_customer_cannot_be_its_own_parent():
    customer = f.CustomerFactory()
    customer.parent = customer
    assert_rejected(customer.save)
    customer.parent = f.CustomerFactory()
    customer.save()


# --- querysets ---------------------------------------------------------------------------


def test_active_at_is_half_open():
    before = DAY - datetime.timedelta(days=1)
    starts_today = f.SubscriptionFactory(started_at=DAY)
    ends_today = f.SubscriptionFactory(started_at=before, ended_at=DAY)
    ends_tomorrow = f.SubscriptionFactory(started_at=before, ended_at=DAY + datetime.timedelta(days=1))
    f.SubscriptionFactory(started_at=DAY + datetime.timedelta(days=1))  # not yet started

    assert set(Subscription.objects.active_at(DAY)) == {starts_today, ends_tomorrow}
    assert set(Subscription.objects.active_at(before)) == {ends_today, ends_tomorrow}
    assert not ends_today.is_active_on(DAY)


def test_paying_excludes_trials_and_free_rows():
    paying = f.SubscriptionFactory(mrr=Decimal("10"))
    f.SubscriptionFactory(mrr=Decimal("10"), is_trial=True)
    f.SubscriptionFactory(mrr=Decimal("0"))

    assert list(Subscription.objects.paying()) == [paying]


# --- one-row logic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "completed", "overdue"),
    [
        (DAY - datetime.timedelta(days=1), False, True),
        (DAY, False, False),
        (DAY - datetime.timedelta(days=1), True, False),
        (None, False, False),
    ],
)
def test_task_is_overdue_only_when_open_and_past_due(due_on, completed, overdue):
    task = f.TaskFactory.build(due_on=due_on, completed_at=NOON if completed else None)
    assert task.is_overdue(today=DAY) is overdue


def test_role_of_returns_none_for_anonymous_and_roleless_users():
    assert role_of(AnonymousUser()) is None
    assert role_of(f.UserFactory()) is None


def test_role_of_a_superuser_is_admin():
    assert role_of(f.UserFactory(is_superuser=True)) == "admin"


@pytest.mark.parametrize("role", ["admin", "manager", "csm"])
def test_role_of_returns_the_group_role(role):
    assert role_of(f.UserFactory(role=role)) == role


def test_role_of_returns_the_strongest_role():
    user = f.UserFactory(role="csm")
    user.groups.add(*f.UserFactory(role="manager").groups.all())
    assert role_of(user) == "manager"
