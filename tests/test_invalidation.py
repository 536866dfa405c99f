"""Late data marks stale exactly the periods it can change (metrics.invalidation), and the stale run
brings every stored snapshot back to the live value (metrics.verification proves it)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from accounts import reporting_time
from accounts.models import Customer, Subscription
from importing.services import import_and_announce
from metrics import catalogue, snapshots, tasks
from metrics.models import KpiSnapshot, SnapshotVerification, StaleRange
from metrics.periods import Period, add_months
from metrics.selectors import Scope, compute_kpis
from metrics.verification import snapshot_drift
from tests.factories import CustomerFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def months(first: D, count: int) -> list[Period]:
    return [Period(add_months(first, i), add_months(first, i + 1)) for i in range(count)]


def snapshot_all(periods, scopes=None):
    for period in periods:
        for label in scopes or snapshots.all_scopes():
            snapshots.snapshot_write(Scope.from_label(label), period)
    StaleRange.objects.all().delete()


def stored(metric, scope, period):
    return KpiSnapshot.objects.get(metric=metric, scope=scope, period_start=period.start).value


def late(tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    result = import_and_announce(kind, str(path))
    assert result.committed, result.errors
    return result


def wrong_figures():
    return [(d.metric, d.scope, d.period_start) for d in snapshot_drift()[1]]


# --- Finding 1: a late event extends a session across a period edge ----------------------


def test_a_late_event_after_midnight_marks_the_month_its_session_began(tmp_path):
    customer = CustomerFactory(external_id="C")
    late(tmp_path, "usage_events", "customer_external_id,user_external_id,event_type,occurred_at\n"
         "C,u1,login,2026-07-31T23:50:00Z\nC,u1,login,2026-08-01T09:00:00Z\n")  # fmt: skip
    july, august = months(D(2026, 7, 1), 2)
    snapshot_all([july, august])
    assert stored("average_session_duration", f"customer:{customer.pk}", july) == 0

    late(tmp_path, "usage_events", "customer_external_id,user_external_id,event_type,occurred_at\n"
         "C,u1,report,2026-08-01T00:10:00Z\n")  # fmt: skip
    assert StaleRange.objects.filter(start__lte=D(2026, 7, 31), end__gt=D(2026, 7, 31), input="usage_events").exists()
    assert ("average_session_duration", f"customer:{customer.pk}", "2026-07-01") in wrong_figures()
    tasks.snapshots_stale()
    assert stored("average_session_duration", f"customer:{customer.pk}", july) == 1200  # 23:50–00:10
    assert stored("average_session_duration", "company", july) == 1200
    assert wrong_figures() == []


# --- Finding 2: a late subscription row changes every period of its span -----------------


def test_a_late_open_ended_subscription_marks_its_whole_span_until_today(tmp_path):
    SubscriptionFactory(customer=CustomerFactory(external_id="A"), started_at=D(2026, 1, 1), mrr=Decimal("100"))
    CustomerFactory(external_id="B")
    periods = months(D(2026, 8, 1), 4)  # August to November
    snapshot_all(periods)
    late(tmp_path, "subscriptions", "customer_external_id,plan,started_at,mrr\nB,pro,2026-09-01,105\n")
    wrong = wrong_figures()
    assert ("customers", "company", "2026-08-01") in wrong  # August's end is 1 September
    assert {p for _, _, p in wrong} == {"2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"}
    ranges = list(StaleRange.objects.values_list("start", "end", "input"))
    assert ranges == [(D(2026, 8, 31), reporting_time.today() + datetime.timedelta(days=1), "subscriptions")]
    tasks.snapshots_stale()
    assert stored("customers", "company", periods[0]) == 2 and stored("mrr", "company", periods[0]) == 205
    assert stored("mrr", "company", periods[3]) == 205
    assert wrong_figures() == []


def test_a_late_row_before_a_customers_later_rows_marks_those_too(tmp_path):
    """A row in 2025 makes the customer's 2026 return a reactivation, not new MRR."""
    b = CustomerFactory(external_id="B")
    SubscriptionFactory(customer=b, started_at=D(2026, 9, 15), mrr=Decimal("50"))
    september = Period(D(2026, 9, 1), D(2026, 10, 1))
    snapshot_all([september])
    assert stored("mrr_new", "company", september) == 50
    late(tmp_path, "subscriptions", "customer_external_id,plan,started_at,ended_at,mrr\nB,old,2025-01-01,2025-03-01,40\n")
    tasks.snapshots_stale()
    assert (stored("mrr_new", "company", september), stored("mrr_reactivation", "company", september)) == (0, 50)
    assert wrong_figures() == []


# --- Finding 3: west of UTC, a month's cost marks that month ------------------------------


def test_a_late_cost_marks_its_month_west_of_utc(settings, tmp_path):
    settings.CSPLATFORM_REPORTING_TZ = "America/New_York"
    for name in "ABCDEFG":
        SubscriptionFactory(customer=CustomerFactory(external_id=name), started_at=D(2024, 1, 1), mrr=Decimal("10"))
    march = Period(D(2024, 3, 1), D(2024, 4, 1))
    snapshot_all([Period(D(2024, 2, 1), D(2024, 3, 1)), march], ["company"])
    assert stored("customer_retention_cost", "company", march) == 0
    late(tmp_path, "costs", "month,category,amount\n2024-03,cs_payroll,500\n")
    assert list(StaleRange.objects.values_list("start", "end")) == [(D(2024, 3, 1), D(2024, 3, 2))]
    tasks.snapshots_stale()
    assert stored("customer_retention_cost", "company", march) == Decimal("71.4285714286")  # 500 / 7 customers
    assert stored("customer_retention_cost", "company", Period(D(2024, 2, 1), D(2024, 3, 1))) == 0
    assert wrong_figures() == []


def test_a_late_response_and_ticket_mark_their_reporting_day_east_of_utc(settings, tmp_path):
    settings.CSPLATFORM_REPORTING_TZ = "Asia/Tokyo"
    CustomerFactory(external_id="A")
    feb, march = months(D(2024, 2, 1), 2)
    snapshot_all([feb, march], ["company"])
    late(tmp_path, "survey_responses", "customer_external_id,survey_type,score,responded_at\nA,nps,10,2024-02-29T16:00:00Z\n")
    late(tmp_path, "tickets", "external_id,customer_external_id,opened_at,resolved_at,contacts_count\n"
         "T1,A,2024-02-29T10:00:00Z,2024-02-29T15:30:00Z,1\n")  # fmt: skip
    ranges = {name: (start, end) for start, end, name in StaleRange.objects.values_list("start", "end", "input")}
    assert ranges == {"responses": (D(2024, 3, 1), D(2024, 3, 2)),  # 1 March 01:00 in Tokyo
                      "tickets": (D(2024, 2, 29), D(2024, 3, 2))}  # opened 29 Feb, resolved 1 March 00:30  # fmt: skip
    tasks.snapshots_stale()
    assert stored("nps", "company", march) == 100 and stored("nps", "company", feb) is None
    assert stored("first_contact_resolution_rate", "company", march) == 1
    assert wrong_figures() == []


# --- Writes outside imports: admin and the same marks --------------------------------------


def test_an_admin_edit_marks_the_rows_old_and_new_span(admin_user, django_capture_on_commit_callbacks):
    row = SubscriptionFactory(customer=CustomerFactory(external_id="A"), started_at=D(2026, 1, 1), mrr=Decimal("100"))
    periods = months(D(2026, 1, 1), 3)
    snapshot_all(periods)
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = site._registry[Subscription]
    before = Subscription.objects.get(pk=row.pk)
    row.mrr = Decimal("120")
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.save_model(request, row, form=None, change=True)
    assert before.mrr == 100 and StaleRange.objects.filter(input="subscriptions").exists()
    tasks.snapshots_stale()
    assert stored("mrr", "company", periods[1]) == 120
    assert wrong_figures() == []


# --- verify_snapshots ------------------------------------------------------------------------


def test_verify_snapshots_reports_drift_and_exits_non_zero(capsys):
    SubscriptionFactory(customer=CustomerFactory(external_id="A"), started_at=D(2026, 1, 1), mrr=Decimal("100"))
    snapshot_all([Period(D(2026, 2, 1), D(2026, 3, 1))], ["company"])
    call_command("verify_snapshots")
    assert f"checked {len(catalogue.KPI_KEYS)} snapshots: 0 drift(s)" in capsys.readouterr().out
    Subscription.objects.update(mrr=Decimal("90"))  # written behind the engine's back: nothing marked
    with pytest.raises(CommandError, match="stored figure") as error:  # the command line exits with 1
        call_command("verify_snapshots", "--start", "2026-01-01", "--end", "2026-12-01")
    assert error.value.returncode == 1
    assert "DRIFT mrr company [2026-02-01, 2026-03-01) value: stored 100 live 90" in capsys.readouterr().out
    last = SnapshotVerification.objects.first()
    assert last.drift_count >= 1 and {"metric": "mrr", "scope": "company", "period_start": "2026-02-01",
                                      "period_end": "2026-03-01", "field": "value", "stored": "100",
                                      "live": "90"} in last.drifts  # fmt: skip
    assert compute_kpis(Scope(), Period(D(2026, 2, 1), D(2026, 3, 1)), ["mrr"])["mrr"].value == 90
    assert Customer.objects.count() == 1


@pytest.mark.slow
def test_verify_snapshots_finds_no_drift_after_a_simulated_demo_and_a_late_import(tmp_path, capsys):
    call_command("simulate", customers=25, months=4, end=D(2026, 7, 1), out=str(tmp_path / "demo"), csm=["carla"])
    call_command("kpi_snapshots", "--start", "2026-03-01", "--end", "2026-07-01")
    tasks.snapshots_stale()  # what the simulation's own imports marked
    capsys.readouterr()
    call_command("verify_snapshots")
    assert capsys.readouterr().out.strip().endswith(": 0 drift(s)")
    customer = Customer.objects.filter(subscriptions__isnull=False).order_by("pk").first()
    user = customer.contacts.order_by("pk").first().external_id
    late(tmp_path, "usage_events", "customer_external_id,user_external_id,event_type,occurred_at\n"
         f"{customer.external_id},{user},login,2026-04-30T23:55:00Z\n{customer.external_id},{user},login,2026-05-01T00:20:00Z\n")  # fmt: skip
    late(tmp_path, "subscriptions", f"customer_external_id,plan,started_at,mrr\n{customer.external_id},late-addon,2026-04-10,33\n")
    late(tmp_path, "costs", "month,category,amount\n2026-05,programs,1234\n")
    assert wrong_figures() != []
    tasks.snapshots_stale()
    capsys.readouterr()
    call_command("verify_snapshots")
    out = capsys.readouterr().out.strip()
    assert out.endswith(": 0 drift(s)") and int(out.split()[1]) > 1000


def test_deleting_a_customer_through_the_api_recomputes_every_stored_period(client, admin_user):
    gone = CustomerFactory(external_id="GONE")
    SubscriptionFactory(customer=gone, started_at=D(2026, 1, 1), mrr=Decimal("100"))
    SubscriptionFactory(customer=CustomerFactory(external_id="STAYS"), started_at=D(2026, 1, 1), mrr=Decimal("50"))
    periods = months(D(2026, 2, 1), 2)
    snapshot_all(periods, ["company"])
    client.force_login(admin_user)
    assert client.delete(f"/api/v1/customers/{gone.pk}/").status_code == 204
    tasks.snapshots_stale()
    assert [stored("mrr", "company", p) for p in periods] == [50, 50]
    assert wrong_figures() == []


def test_moving_a_customer_to_another_segment_recomputes_the_segments_figures(tmp_path):
    moving = CustomerFactory(external_id="M", segment="SMB")
    SubscriptionFactory(customer=moving, started_at=D(2026, 1, 1), mrr=Decimal("100"))
    SubscriptionFactory(customer=CustomerFactory(external_id="E", segment="ENT"), started_at=D(2026, 1, 1), mrr=Decimal("500"))
    february = Period(D(2026, 2, 1), D(2026, 3, 1))
    snapshot_all([february])
    late(tmp_path, "customers", "external_id,name,segment\nM,Moving Ltd,ENT\n")
    tasks.snapshots_stale()
    assert stored("mrr", "segment:ENT", february) == 600 and stored("mrr", "segment:SMB", february) == 0
    assert wrong_figures() == []


def test_assigning_and_unassigning_a_csm_recomputes_their_portfolios_figures(django_capture_on_commit_callbacks):
    """Assigned CSMs are a many-to-many (no row of the customer changes): the change still marks stale."""
    carla = UserFactory(username="carla", role="csm")
    shared = CustomerFactory(external_id="S")
    SubscriptionFactory(customer=shared, started_at=D(2026, 1, 1), mrr=Decimal("100"))
    SubscriptionFactory(customer=CustomerFactory(external_id="O", owner=carla), started_at=D(2026, 1, 1), mrr=Decimal("40"))
    february = Period(D(2026, 2, 1), D(2026, 3, 1))
    snapshot_all([february], ["csm:carla"])
    assert stored("mrr", "csm:carla", february) == 40
    with django_capture_on_commit_callbacks(execute=True):
        shared.assigned_users.add(carla)
    tasks.snapshots_stale()
    assert stored("mrr", "csm:carla", february) == 140 and wrong_figures() == []
    with django_capture_on_commit_callbacks(execute=True):
        carla.assigned_customers.remove(shared)  # the other side of the relation
    tasks.snapshots_stale()
    assert stored("mrr", "csm:carla", february) == 40 and wrong_figures() == []
    with django_capture_on_commit_callbacks(execute=True):
        shared.assigned_users.add(carla)
        shared.assigned_users.add(carla)  # already assigned: nothing moved, the first add marks once
    assert StaleRange.objects.count() == 1
    StaleRange.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        carla.assigned_customers.clear()
    assert StaleRange.objects.count() == 1
