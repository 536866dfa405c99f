"""Django admin: every change list and add page renders, search works, lists stay N+1-free."""

import datetime
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import UsageEvent
from lib.admin_paginators import EstimatedCountPaginator
from metrics.models import HealthModel
from tests import factories as f

pytestmark = pytest.mark.django_db

EDITABLE = [
    f.CustomerFactory,
    f.ContactFactory,
    f.SubscriptionFactory,
    f.UsageEventFactory,
    f.TicketFactory,
    f.CostEntryFactory,
    f.LeadFactory,
    f.NoteFactory,
    f.TaskFactory,
    f.SurveyResponseFactory,
    f.StaleRangeFactory,
]
# Written by the KPI engine: the admin shows them but does not let anyone add or edit.
COMPUTED = [f.KpiSnapshotFactory, f.UserDayActivityFactory, f.CustomerDayFeatureFactory, f.UsageSessionFactory]


def admin_url(factory, view, *args):
    meta = factory._meta.model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def make_rows(factory, n):
    """Create `n` rows, spread over days so that unique keys never collide."""
    rows = []
    for i in range(n):
        extra = {}
        if factory in (f.UserDayActivityFactory, f.CustomerDayFeatureFactory):
            extra["day"] = datetime.date(2024, 1, 1) + datetime.timedelta(days=i)
        rows.append(factory(**extra))
    return rows


def names(factory):
    return factory._meta.model.__name__


@pytest.mark.parametrize("factory", EDITABLE + COMPUTED, ids=names)
def test_change_list_and_change_page_render(admin_client, factory):
    rows = make_rows(factory, 3)

    response = admin_client.get(admin_url(factory, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3

    assert admin_client.get(admin_url(factory, "change", rows[0].pk)).status_code == 200


@pytest.mark.parametrize("factory", EDITABLE, ids=names)
def test_add_page_renders(admin_client, factory):
    assert admin_client.get(admin_url(factory, "add")).status_code == 200


@pytest.mark.parametrize("factory", COMPUTED, ids=names)
def test_computed_rows_cannot_be_added_by_hand(admin_client, factory):
    assert admin_client.get(admin_url(factory, "add")).status_code == 403


@pytest.mark.parametrize("factory", EDITABLE + COMPUTED, ids=names)
def test_change_list_runs_the_same_queries_for_2_and_8_rows(admin_client, factory):
    url = admin_url(factory, "changelist")
    counts = []
    for n in (2, 6):
        make_rows(factory, n)  # 2, then 8 in all
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_customer_change_list_queries_do_not_grow_with_customers(admin_client, django_assert_max_num_queries):
    url = reverse("admin:accounts_customer_changelist")

    def customers(n):
        for _ in range(n):
            customer = f.CustomerFactory(owner=f.UserFactory(role="csm"))
            f.SubscriptionFactory(customer=customer)

    customers(5)
    with CaptureQueriesContext(connection) as five:
        admin_client.get(url)
    customers(45)
    with django_assert_max_num_queries(len(five)):
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 50


def test_customer_change_list_shows_todays_paying_mrr(admin_client):
    customer = f.CustomerFactory(name="Acme")
    f.SubscriptionFactory(customer=customer, mrr=Decimal("100"))
    f.SubscriptionFactory(customer=customer, mrr=Decimal("50.5"))
    f.SubscriptionFactory(customer=customer, mrr=Decimal("999"), is_trial=True)
    f.SubscriptionFactory(customer=customer, mrr=Decimal("999"), ended_at=datetime.date(2024, 2, 1))
    f.CustomerFactory(name="Nothing yet")

    response = admin_client.get(reverse("admin:accounts_customer_changelist"))

    mrr = {c.name: c.current_mrr_total for c in response.context["cl"].result_list}
    assert mrr == {"Acme": Decimal("150.5"), "Nothing yet": Decimal("0")}


@pytest.mark.parametrize(
    ("factory", "field", "query"),
    [
        (f.CustomerFactory, "name", "Acme"),
        (f.ContactFactory, "email", "ann@acme.test"),
        (f.SubscriptionFactory, "plan", "Enterprise"),
        (f.TicketFactory, "subject", "Broken export"),
        (f.UsageEventFactory, "event_type", "report_export"),
        (f.NoteFactory, "body", "renewal risk"),
        (f.SurveyResponseFactory, "comment", "love it"),
        (f.KpiSnapshotFactory, "metric", "grr"),
    ],
    ids=lambda v: v if isinstance(v, str) else names(v),
)
def test_search_finds_only_matching_rows(admin_client, factory, field, query):
    match = factory(**{field: query})
    factory()

    response = admin_client.get(admin_url(factory, "changelist"), {"q": query})

    assert list(response.context["cl"].result_list) == [match]


def test_non_staff_csm_is_sent_to_the_admin_login(client, csm):
    client.force_login(csm)

    response = client.get(reverse("admin:accounts_customer_changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_customer_owner_choices_are_team_members_only(admin_client, csm):
    f.UserFactory(username="no-role")
    f.UserFactory(username="gone", role="csm", is_active=False)

    form = admin_client.get(reverse("admin:accounts_customer_add")).context["adminform"].form

    for field in ("owner", "assigned_users"):
        assert {u.username for u in form.fields[field].queryset} == {"ada", "carla"}


def test_new_note_is_signed_by_the_current_user_by_default(admin_client, admin_user):
    form = admin_client.get(reverse("admin:accounts_note_add")).context["adminform"].form

    assert form.initial["author"] == admin_user.pk


def test_estimated_paginator_counts_no_further_than_its_cap(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 3)
    make_rows(f.UsageEventFactory, 5)

    events = UsageEvent.objects.order_by("-pk")
    second = events[3].pk

    assert EstimatedCountPaginator(events, 2).count == 4  # cap + 1: "more than 3"
    assert EstimatedCountPaginator(events.filter(pk__lte=second), 2).count == 2
    assert EstimatedCountPaginator(events.filter(event_type="nothing"), 2).count == 0


def test_large_table_change_list_never_counts_the_whole_table(admin_client):
    make_rows(f.UsageEventFactory, 3)

    with CaptureQueriesContext(connection) as queries:
        admin_client.get(reverse("admin:accounts_usageevent_changelist"))

    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)


@pytest.mark.parametrize("minute", ["-1", "-0"])
@pytest.mark.parametrize("view", ["add", "change"])
def test_a_refused_crontab_schedule_is_redrawn_with_its_errors(admin_client, minute, view):
    """django-celery-beat describes the schedule read-only from the posted values; celery refused "-1" with a
    ParseException that the description did not catch (a 500 instead of the form's error)."""
    schedule = f.CrontabScheduleFactory()
    target = admin_url(f.CrontabScheduleFactory, view, *([schedule.pk] if view == "change" else []))
    post = {"minute": minute, "hour": "6", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*", "timezone": "UTC"}

    response = admin_client.post(target, post)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["minute"]
    schedule.refresh_from_db()
    assert schedule.minute == "0"


@pytest.mark.parametrize("details", ['{"note": "a\\u0000b"}', '{"\\u0000": 1}', '[["\\u0000"]]'])
def test_an_admin_json_field_refuses_an_escaped_nul(admin_client, details):
    """The NUL middleware sees no raw NUL in `"\\u0000"`; PostgreSQL's jsonb refused it on save (a 500)."""
    alert = f.AlertFactory()
    post = {"rule": alert.rule_id, "customer": alert.customer_id, "fired_on": "2024-01-01", "details": details}

    response = admin_client.post(admin_url(f.AlertFactory, "change", alert.pk), post)

    assert response.status_code == 200
    assert "NUL" in str(response.context["adminform"].form.errors["details"])
    alert.refresh_from_db()
    assert alert.details == {"score": 40, "before": 60}


@pytest.mark.parametrize(
    "weights, key_features",
    [('{"frequency": -1}', "[]"), ('{"nosuch": 1}', "[]"), ('"x"', "[]"), ('{"frequency": "abc"}', "[]"),
     ('{"frequency": 1e400}', "[]"), ('{"frequency": 5000000}', "[]"), ('{"frequency": true}', "[]"),
     ('{"frequency": 0}', "[]"), ('{"frequency": 5}', "5"), ('{"frequency": 5}', '[""]'), ('{"frequency": 5}', "[5]")],
)  # fmt: skip
def test_a_health_model_with_bad_weights_is_refused_with_a_form_error(admin_client, weights, key_features):
    model = f.HealthModelFactory()
    post = {"name": "Default", "weights": weights, "target_active_days": "12", "key_features": key_features}

    response = admin_client.post(admin_url(f.HealthModelFactory, "change", model.pk), post)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert HealthModel.objects.count() == 1


def test_a_health_model_change_in_admin_adds_a_draft_version_with_the_cleaned_weights(admin_client):
    model = f.HealthModelFactory()
    post = {"name": "Default", "weights": '{"frequency": 2.5, "sentiment": "10"}', "target_active_days": "12",
            "key_features": '[" report_created "]'}  # fmt: skip

    response = admin_client.post(admin_url(f.HealthModelFactory, "change", model.pk), post)

    assert response.status_code == 302
    new = HealthModel.objects.exclude(pk=model.pk).get()
    assert new.version == model.version + 1 and new.status == HealthModel.Status.DRAFT
    assert new.weights["frequency"] == 2.5 and new.weights["sentiment"] == 10
    assert new.key_features == ["report_created"]


def test_cleaning_up_expired_login_attempts_from_admin_deletes_only_expired_ones(admin_client):
    """django-axes' action read `request.axes_attempt_time`, which only its login handling sets (a 500 from admin)."""
    fresh, expired = f.AccessAttemptFactory(), f.AccessAttemptFactory(username="eve")
    AccessAttempt.objects.filter(pk=expired.pk).update(attempt_time=timezone.now() - datetime.timedelta(days=1))
    post = {"action": "cleanup_expired_attempts", ACTION_CHECKBOX_NAME: [fresh.pk]}

    response = admin_client.post(admin_url(f.AccessAttemptFactory, "changelist"), post)

    assert response.status_code == 302
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [fresh.pk]
