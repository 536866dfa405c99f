"""KPI snapshots: idempotent upserts, beat fan-out (daily: company, segments, CSMs; monthly: every scope),
late data, backfill command, API."""

import dataclasses
import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Customer, Subscription
from importing.services import import_and_announce
from metrics import grouped, snapshots, tasks
from metrics.models import KpiSnapshot, StaleRange
from metrics.periods import Period
from metrics.invalidation import mark_days as mark_stale
from metrics.selectors import KPI_KEYS, Scope, compute_kpis
from tests.kpi_example import build_worked_example

D = datetime.date
FEBRUARY = Period(D(2024, 2, 1), D(2024, 3, 1))


@pytest.fixture
def example(db):
    return build_worked_example()


def snapshot_rows():
    return sorted(
        KpiSnapshot.objects.values_list("metric", "scope", "period_start", "period_end", "value", "numerator", "denominator")
    )


def test_snapshot_holds_the_worked_example(example):
    snapshots.snapshot_write(Scope(), FEBRUARY)
    churn = KpiSnapshot.objects.get(metric="logo_churn_rate", scope="company")
    assert (churn.value, churn.numerator, churn.denominator) == (0.5, 2, 4)
    nps = KpiSnapshot.objects.get(metric="nps", scope="company")
    assert nps.value == 20 and nps.extra["promoters"] == 5
    assert KpiSnapshot.objects.count() == len(KPI_KEYS)


def test_running_the_snapshot_task_twice_leaves_the_same_rows(example):
    tasks.snapshot_chunk(["company", "segment:SMB"], "2024-02-01", "2024-03-01")
    first = snapshot_rows()
    tasks.snapshot_chunk(["company", "segment:SMB"], "2024-02-01", "2024-03-01")
    assert snapshot_rows() == first
    assert KpiSnapshot.objects.count() == 2 * len(KPI_KEYS)


def assert_stored_equal_compute_kpis(scopes, periods):
    """Every stored row of these scopes and periods holds compute_kpis's figures, and each has all its KPIs."""
    for label in scopes:
        for period in periods:
            stored = {
                row.metric: row
                for row in KpiSnapshot.objects.filter(scope=label, period_start=period.start, period_end=period.end)
            }
            assert set(stored) == set(KPI_KEYS), (label, period)
            for key, kpi in compute_kpis(Scope.from_label(label), period).items():
                row = stored[key]
                for field in ("value", "numerator", "denominator"):
                    mine, live = getattr(row, field), getattr(kpi, field)
                    assert (mine is None) == (live is None), (label, period, key, field, mine, live)
                    assert mine is None or abs(mine - live) < Decimal("1e-9"), (label, period, key, field, mine, live)
                assert row.reason == kpi.reason, (label, period, key)
                assert row.extra == json.loads(json.dumps(snapshots._json_extra(kpi.extra))), (label, period, key)


@pytest.fixture
def portfolios(example, csm, outsider):
    """Carla owns A and is assigned to C; Otto is a CSM without customers."""
    example["A"].owner = csm
    example["A"].save()
    example["C"].assigned_users.add(csm)
    return example


def test_daily_run_stores_yesterday_and_month_to_date_of_company_segments_and_csms_but_no_customer(portfolios):
    assert tasks.snapshots_daily("2024-02-15") == 2 * len(grouped.FAMILIES)
    periods = [Period(D(2024, 2, 14), D(2024, 2, 15)), Period(D(2024, 2, 1), D(2024, 2, 15))]
    assert set(KpiSnapshot.objects.values_list("period_start", "period_end")) == {(p.start, p.end) for p in periods}
    scopes = {"company", "segment:SMB", "segment:Enterprise", "csm:carla", "csm:otto"}
    assert set(KpiSnapshot.objects.values_list("scope", flat=True)) == scopes
    assert not KpiSnapshot.objects.filter(scope__startswith="customer:").exists()
    assert KpiSnapshot.objects.count() == len(scopes) * len(periods) * len(KPI_KEYS)
    assert_stored_equal_compute_kpis(scopes, periods)
    assert KpiSnapshot.objects.get(metric="mrr", scope="csm:carla", period_start=D(2024, 2, 1)).value == 420  # A 100 + 20, C 300 (its 150 starts on the 20th)


def test_daily_run_computes_no_customer_scope_figures(portfolios, monkeypatch):
    computed = []
    for name, family in grouped.FAMILIES.items():
        def compute(inputs, period, company, family=family):
            computed.append(family.name)
            return family.compute(inputs, period, company)

        monkeypatch.setitem(grouped.FAMILIES, name, dataclasses.replace(family, compute=compute))
    tasks.snapshots_daily("2024-02-15")
    # company, two segments, two CSMs: once per family and period, never a customer's
    assert sorted(computed) == sorted(list(grouped.FAMILIES) * 5 * 2)


def test_daily_run_leaves_the_customer_scopes_of_closed_months_alone(portfolios):
    tasks.snapshots_monthly("2024-02-01")  # January, every scope
    january = set(KpiSnapshot.objects.values_list("metric", "scope", "value"))
    tasks.snapshots_daily("2024-02-15")
    assert set(KpiSnapshot.objects.filter(period_start=D(2024, 1, 1)).values_list("metric", "scope", "value")) == january


def test_monthly_run_stores_the_closed_month_of_every_scope_customers_included(portfolios):
    assert tasks.snapshots_monthly("2024-03-01") == len(grouped.FAMILIES)
    assert set(KpiSnapshot.objects.values_list("period_start", "period_end")) == {(D(2024, 2, 1), D(2024, 3, 1))}
    customers = {f"customer:{c.pk}" for c in portfolios.values() if isinstance(c, Customer)}
    assert len(customers) == 7
    scopes = set(KpiSnapshot.objects.values_list("scope", flat=True))
    assert scopes == set(snapshots.all_scopes()) == {"company", "segment:SMB", "segment:Enterprise", "csm:carla",
                                                     "csm:otto", *customers}  # fmt: skip
    assert_stored_equal_compute_kpis(scopes, [FEBRUARY])
    assert KpiSnapshot.objects.get(metric="mrr", scope=f"customer:{portfolios['A'].pk}").value == 120


def test_late_data_recomputes_the_periods_it_touched(example):
    tasks.snapshot_chunk(["company"], "2024-02-01", "2024-03-01")
    tasks.snapshot_chunk(["company"], "2024-04-01", "2024-05-01")
    late = Subscription.objects.create(
        customer=example["G"], plan="pro", started_at=D(2024, 2, 26), mrr=40, original_mrr=40, currency="EUR"
    )
    mark_stale(late.started_at, D(2024, 2, 27))
    before_april = KpiSnapshot.objects.get(metric="mrr", scope="company", period_start=D(2024, 4, 1)).computed_at
    assert tasks.snapshots_stale() == 1
    assert KpiSnapshot.objects.get(metric="mrr", scope="company", period_start=D(2024, 2, 1)).value == 440
    assert KpiSnapshot.objects.get(metric="mrr", scope="company", period_start=D(2024, 4, 1)).computed_at == before_april
    assert not StaleRange.objects.exists()


def test_import_marks_touched_days_stale(db, tmp_path):
    Customer.objects.create(external_id="A", name="A")
    path = tmp_path / "subs.csv"
    path.write_text("customer_external_id,plan,started_at,mrr\nA,pro,2024-02-10,100\n")
    import_and_announce("subscriptions", str(path))
    assert StaleRange.objects.filter(start__lte=D(2024, 2, 10), end__gt=D(2024, 2, 10)).exists()


def test_backfill_command(example, capsys):
    call_command("kpi_snapshots", "--start", "2024-01-01", "--end", "2024-03-01", "--no-customers")
    out = capsys.readouterr().out
    assert "2 periods" in out
    assert KpiSnapshot.objects.filter(metric="mrr", scope="company").count() == 2
    assert not KpiSnapshot.objects.filter(scope__startswith="customer:").exists()


@pytest.mark.parametrize("no_customers", [[], ["--no-customers"]], ids=["every scope", "no customers"])
def test_queued_backfill_command_covers_the_scopes_asked(example, no_customers):
    call_command("kpi_snapshots", "--start", "2024-02-01", "--end", "2024-03-01", "--queue", *no_customers)
    customer_rows = KpiSnapshot.objects.filter(scope__startswith="customer:").count()
    assert customer_rows == (0 if no_customers else 7 * len(KPI_KEYS))
    assert KpiSnapshot.objects.get(metric="mrr", scope="company").value == 400


def test_snapshot_api_lists_and_filters(example, client, admin_user):
    snapshots.snapshot_write(Scope(), FEBRUARY)
    client.force_login(admin_user)
    body = client.get("/api/v1/kpi-snapshots/", {"metric": "mrr", "scope": "company"}).json()
    assert [r["value"] for r in body["results"]] == [400]
    assert body["results"][0]["period_start"] == "2024-02-01"


def test_csm_sees_company_and_own_snapshots_only(example, client, csm, outsider):
    a = example["A"]
    a.owner = csm
    a.save()
    snapshots.snapshot_write(Scope(customer_id=a.pk), FEBRUARY)
    snapshots.snapshot_write(Scope(customer_id=example["C"].pk), FEBRUARY)
    snapshots.snapshot_write(Scope(), FEBRUARY)
    client.force_login(csm)
    scopes = {r["scope"] for r in client.get("/api/v1/kpi-snapshots/", {"metric": "mrr"}).json()["results"]}
    assert scopes == {"company", f"customer:{a.pk}"}


def test_recompute_is_admin_only(example, client, admin_user, manager):
    client.force_login(manager)
    body = {"start": "2024-02-01", "end": "2024-03-01"}
    url = "/api/v1/kpi-snapshots/recompute/"
    assert client.post(url, body, content_type="application/json").status_code == 403
    client.force_login(admin_user)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 202
    assert KpiSnapshot.objects.filter(scope="company", metric="mrr", period_start=D(2024, 2, 1)).exists()
    customer = KpiSnapshot.objects.get(scope=f"customer:{example['A'].pk}", metric="mrr", period_start=D(2024, 2, 1))
    assert customer.value == 120  # a backfill covers every scope, customers included


def test_cost_import_marks_its_months_stale(db, tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("month,category,amount\n2024-02,sales,600\n")
    import_and_announce("costs", str(path))
    assert StaleRange.objects.filter(start__lte=D(2024, 2, 1), end__gt=D(2024, 2, 1)).exists()
