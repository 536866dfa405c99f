"""Set-based KPIs (metrics.grouped) equal the per-scope ones (compute_kpis) for every scope, key and field,
and the family fan-out stores the same snapshot rows as the per-scope writer."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import Customer
from accounts.roles import CSM
from metrics import grouped, snapshots, tasks
from metrics.models import KpiSnapshot
from metrics.periods import Period
from metrics.selectors import KPI_KEYS, Scope, compute_kpis
from tests.kpi_example import build_worked_example

pytestmark = pytest.mark.django_db
D = datetime.date


def differences(period: Period, labels: list[str]) -> list[tuple]:
    """Every (scope, key, grouped, per-scope) where the grouped figure differs from compute_kpis's."""
    together = grouped.kpis_of_scopes(labels, period)
    assert list(together) == labels
    found = []
    for label in labels:
        alone = compute_kpis(Scope.from_label(label), period)
        assert list(together[label]) == list(KPI_KEYS)
        for key in KPI_KEYS:
            mine, theirs = together[label][key], alone[key]
            # Kpi equality covers value, numerator, denominator, reason and extra
            if (mine, mine.reason, mine.extra) != (theirs, theirs.reason, theirs.extra):
                found.append((str(period), label, key, mine, theirs))
    return found


@pytest.fixture
def simulated(tmp_path, django_user_model):
    """A simulated company (two CSMs, segments, churn) plus the awkward scopes: a customer both owned and
    assigned, one assigned to another CSM too, a customer without any data, a CSM without customers."""
    call_command("simulate", customers=30, months=4, end=D(2026, 7, 1), out=str(tmp_path / "demo"), csm=["carla", "david"])
    carla = django_user_model.objects.get(username="carla")
    david = django_user_model.objects.get(username="david")
    owned_by_carla = Customer.objects.filter(owner=carla).order_by("pk")
    both = owned_by_carla.first()
    both.assigned_users.add(carla, david)  # owner and assigned: counted once
    owned_by_carla.last().assigned_users.add(david)
    Customer.objects.create(external_id="EMPTY", name="No data yet", segment="SMB")
    idle = django_user_model.objects.create_user("ivan", "ivan@example.com", "pw-Secret-123")
    idle.groups.add(Group.objects.get_or_create(name=CSM)[0])
    return snapshots.all_scopes()


@pytest.mark.slow
def test_grouped_kpis_equal_compute_kpis_for_every_scope_of_a_simulated_company(simulated):
    labels = simulated
    assert {"company", "csm:carla", "csm:david", "csm:ivan"} <= set(labels)
    assert any(label.startswith("segment:") for label in labels)
    periods = [
        Period(D(2026, 5, 14), D(2026, 5, 15)),  # a day
        Period(D(2026, 5, 1), D(2026, 6, 1)),  # a month
        Period(D(2026, 6, 1), D(2026, 6, 20)),  # a month to date
        Period(D(2026, 4, 1), D(2026, 7, 1)),  # a quarter: churn over whole months (CLV)
        Period(D(2030, 1, 1), D(2030, 2, 1)),  # no data at all
    ]
    assert [d for period in periods for d in differences(period, labels)] == []


def test_grouped_kpis_equal_compute_kpis_on_the_worked_example(db):
    build_worked_example()
    labels = snapshots.all_scopes()
    for period in (Period(D(2024, 2, 1), D(2024, 3, 1)), Period(D(2024, 2, 1), D(2024, 2, 2)), Period(D(2024, 1, 1), D(2024, 4, 1))):
        assert differences(period, labels) == []


def test_kpis_of_scopes_answers_only_the_keys_asked(db):
    example = build_worked_example()
    february = Period(D(2024, 2, 1), D(2024, 3, 1))
    label = f"customer:{example['A'].pk}"
    result = grouped.kpis_of_scopes(["company", label], february, ["mrr", "nps"])
    assert {k: list(v) for k, v in result.items()} == {"company": ["mrr", "nps"], label: ["mrr", "nps"]}
    assert result["company"]["mrr"].value == 400
    with pytest.raises(ValueError):
        grouped.kpis_of_scopes(["company"], february, ["nope"])


def stored_rows():
    return sorted(
        KpiSnapshot.objects.values_list("metric", "scope", "period_start", "period_end", "value", "numerator",
                                        "denominator", "reason", "extra")
    )  # fmt: skip


@pytest.mark.parametrize("copy_from", [1, 10**9], ids=["through COPY on PostgreSQL", "bulk_create"])
def test_family_fan_out_stores_the_rows_the_per_scope_writer_stores(db, monkeypatch, copy_from):
    build_worked_example()
    monkeypatch.setattr(snapshots, "COPY_FROM", 10**9)
    february = Period(D(2024, 2, 1), D(2024, 3, 1))
    for label in snapshots.all_scopes():
        snapshots.snapshot_write(Scope.from_label(label), february)
    one_by_one = stored_rows()
    KpiSnapshot.objects.all().delete()
    monkeypatch.setattr(snapshots, "COPY_FROM", copy_from)
    monkeypatch.setattr(snapshots, "BATCH", 50)  # several batches
    assert tasks.fan_out(february.start, february.end) == len(grouped.FAMILIES)
    assert stored_rows() == one_by_one
    tasks.fan_out(february.start, february.end)  # twice: the same rows
    assert stored_rows() == one_by_one


def test_family_task_writes_only_the_keys_asked_and_skips_unknown_families_and_scopes(db):
    build_worked_example()
    assert tasks.snapshot_family("voice", "2024-02-01", "2024-03-01", ["company", "segment:SMB"], ["nps"]) == 2
    assert set(KpiSnapshot.objects.values_list("metric", "scope")) == {("nps", "company"), ("nps", "segment:SMB")}
    assert tasks.snapshot_family("nope", "2024-02-01", "2024-03-01") == 0
    assert tasks.snapshot_family("support", "2024-02-01", "2024-03-01", ["company", "planet:mars"]) == 1


def test_many_stale_scopes_are_recomputed_by_family(db, monkeypatch):
    example = build_worked_example()
    february = Period(D(2024, 2, 1), D(2024, 3, 1))
    labels = snapshots.all_scopes()
    for label in labels:
        snapshots.snapshot_write(Scope.from_label(label), february)
    KpiSnapshot.objects.filter(metric="mrr").update(value=0)
    from metrics.invalidation import mark_days

    mark_days(D(2024, 2, 10), D(2024, 2, 11))
    calls = []
    monkeypatch.setattr(tasks, "STALE_GROUPED", 2)
    monkeypatch.setattr(tasks.snapshot_family, "delay", lambda *args: calls.append(args) or tasks.snapshot_family(*args))
    assert tasks.snapshots_stale() == len(labels)
    assert calls and {family for family, *_ in calls} <= set(grouped.FAMILIES)
    assert KpiSnapshot.objects.get(metric="mrr", scope=f"customer:{example['A'].pk}").value == 120
    assert KpiSnapshot.objects.get(metric="mrr", scope="company").value == 400
