"""The monthly usage rollups (metrics.rollups.refresh_months) and the engine's month path (metrics.usage):
every usage figure read with the whole months from the monthly rollups equals the one read from the day
rollups alone, for whole months, partial months and periods across months, in every scope, and stays so
after late data, a re-import, deleted events and a deleted user."""

import datetime

import pytest
from django.core.management import call_command

from accounts.models import Contact, Customer, UsageEvent
from importing.signals import announce
from metrics import grouped, receivers, snapshots
from metrics.models import CustomerDayFeature, CustomerMonthFeature, UsageSession, UserDayActivity, UserMonthActivity
from metrics.periods import Period
from metrics.rollups import rebuild_months, refresh_usage
from metrics.selectors import Scope, usage_kpis_for_periods
from metrics.usage import Parts, usage_counts_for_periods
from tests.import_support import at, customer, run
from tests.kpi_example import build_worked_example

pytestmark = pytest.mark.django_db
D = datetime.date
HEADER = "customer_external_id,user_external_id,event_type,occurred_at,session_id,event_id\n"

PERIODS = [
    Period(D(2024, 1, 1), D(2024, 2, 1)),  # a whole month
    Period(D(2024, 2, 1), D(2024, 3, 1)),  # February of a leap year
    Period(D(2024, 1, 1), D(2024, 4, 1)),  # a quarter
    Period(D(2024, 1, 15), D(2024, 3, 10)),  # partial months around a whole one
    Period(D(2024, 1, 31), D(2024, 2, 2)),  # across a month's end, no whole month
    Period(D(2024, 2, 1), D(2024, 2, 20)),  # a month to date
    Period(D(2024, 1, 10), D(2024, 3, 1)),  # a partial month, then a whole one
    Period(D(2024, 2, 1), D(2024, 3, 15)),  # a whole month, then a partial one
    Period(D(2024, 2, 14), D(2024, 2, 15)),  # a day
    Period(D(2030, 1, 1), D(2030, 2, 1)),  # no data
]


def month_path_differences(labels, periods=PERIODS) -> list[tuple]:
    """Every (scope, period, months' counts, days' counts) where the two paths differ, scope by scope and grouped."""
    found = []
    for label in labels:
        scope = Scope.from_label(label)
        with_months = usage_counts_for_periods(scope, periods, whole_months=True)
        from_days = usage_counts_for_periods(scope, periods, whole_months=False)
        found += [(label, str(p), m, d) for p, m, d in zip(periods, with_months, from_days) if m != d]
    for period in periods:
        with_months = usage_counts_for_periods(Scope(), [period], by="customer_id")[0]
        from_days = usage_counts_for_periods(Scope(), [period], by="customer_id", whole_months=False)[0]
        found += [("by customer", str(period), with_months, from_days)] if with_months != from_days else []
    return found


def monthly_rows() -> tuple[list, list]:
    users = UserMonthActivity.objects.values_list("customer_id", "contact_id", "month", "days", "events", "sessions", "session_us")
    features = CustomerMonthFeature.objects.values_list("customer_id", "month", "event_type", "events")
    return sorted(users), sorted(features)


def assert_monthly_rollups_as_rebuilt():
    """The monthly rollups kept up by the refreshes equal the ones rebuilt from the day rollups."""
    kept = monthly_rows()
    rebuild_months()
    assert monthly_rows() == kept


def events_of(tmp_path, text: str):
    """Import usage events (CSV lines after the header) and announce them, as after a committed import."""
    result = run("usage_events", tmp_path, HEADER + text)
    assert not result.errors, result.errors
    announce(result)
    return result


@pytest.fixture
def company(tmp_path):
    """Two customers in two segments with users active across January to March 2024, derived and keyed sessions."""
    customer("A", segment="SMB")
    customer("B", segment="Enterprise")
    events_of(
        tmp_path,
        "A,u1,login,2024-01-14T09:00:00Z,,\n"
        "A,u1,report,2024-01-14T09:20:00Z,,\n"
        "A,u1,login,2024-01-31T23:50:00Z,,\n"  # a session across the month's end
        "A,u1,export,2024-02-01T00:10:00Z,,\n"
        "A,u2,login,2024-02-01T12:00:00Z,,\n"
        "A,u2,login,2024-02-01T12:29:00Z,,\n"
        "A,u2,invite,2024-02-29T08:00:00Z,,\n"
        "A,u1,login,2024-03-05T10:00:00Z,,\n"
        "B,u3,login,2024-01-20T10:00:00Z,s1,\n"  # a keyed session over two months
        "B,u3,report,2024-02-02T10:00:00Z,s1,\n"
        "B,u3,login,2024-02-14T10:00:00Z,,\n"
        "B,u4,export,2024-02-14T11:00:00Z,,\n"
        "B,u4,login,2024-03-09T11:00:00Z,,\n"
        "B,u4,login,2024-03-31T23:59:00Z,,\n"
    )
    return snapshots.all_scopes()


def test_parts_cut_a_period_into_whole_months_and_the_days_around_them():
    assert Parts.of(Period(D(2024, 1, 1), D(2024, 4, 1))) == Parts((D(2024, 1, 1), D(2024, 4, 1)), ())
    assert Parts.of(Period(D(2024, 1, 15), D(2024, 3, 10))) == Parts(
        (D(2024, 2, 1), D(2024, 3, 1)), ((D(2024, 1, 15), D(2024, 2, 1)), (D(2024, 3, 1), D(2024, 3, 10)))
    )
    assert Parts.of(Period(D(2024, 1, 31), D(2024, 2, 2))) == Parts(None, ((D(2024, 1, 31), D(2024, 2, 2)),))
    assert Parts.of(Period(D(2024, 2, 1), D(2024, 3, 1)), whole_months=False) == Parts(None, ((D(2024, 2, 1), D(2024, 3, 1)),))


def test_the_monthly_rollups_sum_the_users_days_and_sessions_of_each_month(company):
    a = Customer.objects.get(external_id="A")
    u1 = Contact.objects.get(external_id="u1")
    row = UserMonthActivity.objects.get(customer=a, contact=u1, month=D(2024, 1, 1))
    # 01-14 (one session of 20 minutes) and 01-31 (a session that runs into February: 20 minutes)
    assert (row.days, row.events, row.sessions, row.session_us) == (2, 3, 2, 40 * 60 * 1_000_000)
    february = UserMonthActivity.objects.get(customer=a, contact=u1, month=D(2024, 2, 1))
    assert (february.days, february.events, february.sessions, february.session_us) == (1, 1, 0, 0)
    assert set(CustomerMonthFeature.objects.filter(customer=a, month=D(2024, 2, 1)).values_list("event_type", "events")) == {
        ("export", 1), ("login", 2), ("invite", 1)
    }
    assert_monthly_rollups_as_rebuilt()


def test_every_scope_reads_the_same_usage_from_the_monthly_and_the_day_rollups(company):
    assert {"company", "segment:SMB", "segment:Enterprise"} <= set(company)
    assert month_path_differences(company) == []
    counts = usage_counts_for_periods(Scope(), PERIODS)
    assert [c["users"] for c in counts[:3]] == [2, 4, 4]
    assert counts[0]["user_days"] == 3 and counts[1]["sessions"] == 4  # u1 and u3 started theirs in January


def test_the_usage_kpis_of_the_month_path_equal_the_day_path_on_the_worked_example():
    example = build_worked_example()
    february = Period(D(2024, 2, 1), D(2024, 3, 1))
    assert UserMonthActivity.objects.filter(month=D(2024, 2, 1)).count() == 3
    figures = usage_kpis_for_periods(Scope(), [february])[0]
    assert (figures["mau"].value, figures["average_session_duration"].value) == (3, 768)
    labels = ["company", f"customer:{example['A'].pk}", f"customer:{example['C'].pk}"]
    assert month_path_differences(labels, [february, Period(D(2024, 1, 1), D(2024, 4, 1)), Period(D(2024, 2, 2), D(2024, 3, 2))]) == []


def test_late_events_refresh_the_months_of_their_days_and_sessions(company, tmp_path):
    events_of(
        tmp_path,
        "A,u1,login,2024-02-01T00:30:00Z,,\n"  # extends u1's session begun on 01-31: January's durations change
        "A,u5,login,2024-01-03T08:00:00Z,,\n"  # a new user in January
        "B,u3,export,2024-03-20T10:00:00Z,s1,\n"  # the keyed session of January gains an event in March
    )
    a = Customer.objects.get(external_id="A")
    u1 = Contact.objects.get(external_id="u1")
    january = UserMonthActivity.objects.get(customer=a, contact=u1, month=D(2024, 1, 1))
    assert january.session_us == (20 + 40) * 60 * 1_000_000
    assert month_path_differences(company) == []
    assert_monthly_rollups_as_rebuilt()


def test_a_reimport_leaves_the_monthly_rollups_as_they_were(company, tmp_path):
    before = monthly_rows()
    events_of(tmp_path, "A,u1,login,2024-01-14T09:00:00Z,,\nB,u3,report,2024-02-02T10:00:00Z,s1,\n")
    assert monthly_rows() == before


def test_deleted_events_refresh_the_monthly_rollups(company):
    gone = list(UsageEvent.objects.filter(contact__external_id="u2", occurred_at__lt=at("2024-02-02T00:00:00")))
    UsageEvent.objects.filter(pk__in=[e.pk for e in gone]).delete()
    receivers.data_changed(sender="usage_events", kind="usage_events", objs=gone)  # as admin announces a delete
    assert month_path_differences(company) == []
    assert_monthly_rollups_as_rebuilt()
    assert UserMonthActivity.objects.get(contact__external_id="u2").days == 1  # 02-29 is left


def test_a_deleted_user_leaves_both_paths_equal(company):
    Contact.objects.get(external_id="u1").delete()
    assert not UserMonthActivity.objects.filter(contact__external_id="u1").exists()
    assert month_path_differences(company) == []


def test_a_refresh_of_one_day_rebuilds_its_whole_month(company):
    b = Customer.objects.get(external_id="B")
    UserMonthActivity.objects.filter(customer=b).delete()
    refresh_usage([b.pk], D(2024, 2, 14), D(2024, 2, 15))
    # February again, and January (the keyed session s1 seen on 02-02 is not in the day's span: January stays gone)
    assert set(UserMonthActivity.objects.filter(customer=b).values_list("month", flat=True)) == {D(2024, 2, 1)}
    assert UserMonthActivity.objects.get(customer=b, contact__external_id="u3").days == 2


def test_a_customer_without_month_rows_reads_none_from_them():
    """Day rollups written without their months (as the factories do) are invisible to whole months: rebuild them."""
    a = customer("A")
    u1 = Contact.objects.create(customer=a, external_id="u1")
    UserDayActivity.objects.create(customer=a, contact=u1, day=D(2024, 2, 3), events=2)
    CustomerDayFeature.objects.create(customer=a, day=D(2024, 2, 3), event_type="login", events=2)
    february = Period(D(2024, 2, 1), D(2024, 3, 1))
    assert usage_counts_for_periods(Scope(), [february])[0]["users"] == 0
    rebuild_months()
    assert usage_counts_for_periods(Scope(), [february])[0]["users"] == 1
    assert month_path_differences(["company", f"customer:{a.pk}"]) == []


@pytest.mark.slow
def test_a_simulated_company_reads_the_same_usage_from_both_paths(tmp_path):
    call_command("simulate", customers=20, months=4, end=D(2026, 7, 1), out=str(tmp_path / "demo"), csm=["carla"])
    assert UserMonthActivity.objects.exists() and UsageSession.objects.exists()
    labels = snapshots.all_scopes()
    periods = [
        Period(D(2026, 5, 1), D(2026, 6, 1)),
        Period(D(2026, 3, 1), D(2026, 7, 1)),
        Period(D(2026, 4, 12), D(2026, 6, 20)),
        Period(D(2026, 6, 1), D(2026, 6, 20)),
        Period(D(2026, 5, 30), D(2026, 6, 2)),
    ]
    assert month_path_differences(labels, periods) == []
    together = grouped.kpis_of_scopes(labels, periods[2])
    assert together["company"]["mau"] == usage_kpis_for_periods(Scope(), [periods[2]])[0]["mau"]
