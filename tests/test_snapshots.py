"""KPI snapshots: idempotent upserts, beat fan-out, late data, backfill command, API."""

import datetime

import pytest
from django.core.management import call_command

from accounts.models import Customer, Subscription
from importing.services import import_and_announce
from metrics import snapshots, tasks
from metrics.models import KpiSnapshot, StaleRange
from metrics.periods import Period
from metrics.invalidation import mark_days as mark_stale
from metrics.selectors import KPI_KEYS, Scope
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


def test_daily_run_covers_yesterday_and_month_to_date_for_every_scope(example):
    tasks.snapshots_daily("2024-02-15")
    periods = set(KpiSnapshot.objects.values_list("period_start", "period_end"))
    assert periods == {(D(2024, 2, 14), D(2024, 2, 15)), (D(2024, 2, 1), D(2024, 2, 15))}
    scopes = set(KpiSnapshot.objects.values_list("scope", flat=True))
    assert {"company", "segment:SMB", "segment:Enterprise", f"customer:{example['A'].pk}"} <= scopes


def test_monthly_run_takes_the_closed_month(example):
    tasks.snapshots_monthly("2024-03-01")
    assert set(KpiSnapshot.objects.values_list("period_start", "period_end")) == {(D(2024, 2, 1), D(2024, 3, 1))}


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


def test_cost_import_marks_its_months_stale(db, tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("month,category,amount\n2024-02,sales,600\n")
    import_and_announce("costs", str(path))
    assert StaleRange.objects.filter(start__lte=D(2024, 2, 1), end__gt=D(2024, 2, 1)).exists()
