"""The worked example of spec/kpis.md: every figure must come out exactly."""

import datetime
from decimal import Decimal

import pytest

from metrics.kpis import round_value
from metrics.periods import Period
from metrics.selectors import KPI_KEYS, Scope, compute_kpis
from tests.kpi_example import EXPECTED, build_worked_example

FEBRUARY = Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))


@pytest.fixture
def example(db):
    return build_worked_example()


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_worked_example_figure(example, key):
    result = compute_kpis(Scope(), FEBRUARY, [key])[key]
    assert round_value(result.value) == EXPECTED[key]


def test_worked_example_exact_fractions(example):
    results = compute_kpis(Scope(), FEBRUARY)
    assert results["net_revenue_retention"].value == Decimal(270) / Decimal(660)
    assert results["dau_mau"].numerator == 4 and results["dau_mau"].denominator == 87
    assert results["logo_churn_rate"].numerator == 2 and results["logo_churn_rate"].denominator == 4
    assert results["nps"].extra == {"promoters": 5, "passives": 2, "detractors": 3, "responses": 10}
    assert results["average_session_duration"].numerator == 3840


def test_worked_example_mrr_bridge_balances(example):
    r = compute_kpis(Scope(), FEBRUARY)
    bridge = (
        r["mrr_opening"].value + r["mrr_new"].value + r["mrr_reactivation"].value
        + r["mrr_expansion"].value - r["mrr_contraction"].value - r["mrr_churn"].value
    )  # fmt: skip
    assert bridge == r["mrr"].value


def test_every_key_is_computed(example):
    assert set(compute_kpis(Scope(), FEBRUARY)) == set(KPI_KEYS)


def test_api_serves_the_worked_example(example, client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/v1/kpis/", {"start": "2024-02-01", "end": "2024-03-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": "2024-02-01", "end": "2024-03-01"}
    for key, expected in EXPECTED.items():
        assert Decimal(str(body["kpis"][key]["value"])) == expected, key
    assert body["kpis"]["nps"]["promoters"] == 5
    assert body["kpis"]["logo_churn_rate"]["numerator"] == 2


def test_segment_scope_restricts_customers_first(example):
    r = compute_kpis(Scope(segment="Enterprise"), FEBRUARY, ["mrr_opening", "mrr", "mrr_contraction", "customers"])
    assert (r["mrr_opening"].value, r["mrr"].value, r["mrr_contraction"].value) == (300, 150, 150)
    assert r["customers"].value == 1


def test_customer_scope_of_a(example):
    a = example["A"]
    r = compute_kpis(Scope(customer_id=a.pk), FEBRUARY, ["mrr_expansion", "nps", "mau", "logo_churn_rate"])
    assert r["mrr_expansion"].value == 20
    assert r["nps"].value == 20
    assert r["mau"].value == 2
    assert r["logo_churn_rate"].value == 0
