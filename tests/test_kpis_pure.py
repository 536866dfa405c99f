"""Pure KPI formulas: no database, tables from spec/kpis.md."""

from decimal import Decimal

import pytest

from metrics import kpis


def test_ratio_with_zero_denominator_is_none_with_reason():
    result = kpis.ratio(0, 0, "no responses")
    assert result.value is None and result.reason == "no responses"


@pytest.mark.parametrize(
    "m0,m1,paid_before,expected",
    [
        (0, 50, False, ("new", 50)),
        (0, 80, True, ("reactivation", 80)),
        (100, 120, True, ("expansion", 20)),
        (300, 150, True, ("contraction", 150)),
        (200, 0, True, ("churn", 200)),
        (100, 100, True, None),
        (0, 0, True, None),
    ],
)
def test_movement_of(m0, m1, paid_before, expected):
    assert kpis.movement_of(Decimal(m0), Decimal(m1), paid_before) == (
        (expected[0], Decimal(expected[1])) if expected else None
    )


def test_mrr_bridge_of_the_worked_example():
    opening = {"A": Decimal(100), "B": Decimal(200), "C": Decimal(300), "F": Decimal(60)}
    closing = {"A": Decimal(120), "C": Decimal(150), "D": Decimal(50), "E": Decimal(80)}
    m = kpis.mrr_movements(opening, closing, paid_before={"A", "B", "C", "E", "F"})
    assert (m.new, m.reactivation, m.expansion, m.contraction, m.churn) == (50, 80, 20, 150, 260)
    assert m.opening + m.new + m.reactivation + m.expansion - m.contraction - m.churn == m.closing
    assert kpis.net_revenue_retention(m).value == Decimal(270) / 660
    assert kpis.gross_revenue_retention(m).value == Decimal(250) / 660
    assert kpis.revenue_churn_rate(m).value == Decimal(410) / 660


def test_churn_and_retention_rates():
    start, end = {"A", "B", "C", "F"}, {"A", "C", "D", "E"}
    assert kpis.logo_churn_rate(start, end).value == Decimal("0.5")
    assert kpis.customer_retention_rate(start, end).value == Decimal("0.5")
    assert kpis.logo_churn_rate(set(), end).value is None


def test_nps_counts_and_value():
    counts = {10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 3: 1, 5: 1}
    result = kpis.nps(counts)
    assert result.value == 20
    assert result.extra == {"promoters": 5, "passives": 2, "detractors": 3, "responses": 10}


def test_nps_is_none_without_responses():
    assert kpis.nps({}).value is None


def test_csat_ces_and_average():
    assert kpis.csat({5: 2, 4: 2, 3: 1, 2: 1}).value == Decimal(4) / 6
    assert kpis.ces({7: 1, 6: 1, 5: 1, 4: 1, 2: 1}).value == Decimal("0.6")
    assert kpis.ces_average({7: 1, 6: 1, 5: 1, 4: 1, 2: 1}).value == Decimal("4.8")


def test_clv_is_none_when_nobody_churned():
    result = kpis.clv(kpis.Kpi(Decimal(100)), Decimal(1), kpis.monthly_churn([(0, 4)]))
    assert result.value is None and "churn" in result.reason


def test_clv_of_the_worked_example():
    assert kpis.clv(kpis.Kpi(Decimal(100)), Decimal(1), kpis.monthly_churn([(2, 4)])).value == 200


def test_monthly_churn_sums_over_months():
    assert kpis.monthly_churn([(1, 10), (3, 10)]).value == Decimal("0.2")
    assert kpis.monthly_churn([]).value is None


def test_ltv_to_cac():
    assert kpis.round_value(kpis.ltv_to_cac(kpis.Kpi(Decimal(200)), kpis.Kpi(Decimal(1500))).value) == Decimal(
        "0.133333"
    )
    assert kpis.ltv_to_cac(kpis.Kpi(None, reason="x"), kpis.Kpi(Decimal(1))).value is None


def test_dau_mau_is_one_exact_fraction():
    assert kpis.dau_mau(4, 29, 3).value == Decimal(4) / Decimal(87)
    assert kpis.dau_mau(0, 29, 0).value is None


def test_onboarding_funnel():
    completion, drop_off, steps = kpis.onboarding([8, 6, 3], 10)
    assert completion.value == Decimal("0.3")
    assert drop_off.value == Decimal("0.7")
    assert [s.value for s in steps] == [Decimal("0.2"), Decimal("0.25"), Decimal("0.5")]


def test_onboarding_without_steps_is_none():
    completion, drop_off, steps = kpis.onboarding([], 10)
    assert completion.value is None and steps == []


def test_feature_adoption_per_event_type():
    result = kpis.feature_adoption({"login": 4, "export": 1}, 4)
    assert result.extra["features"]["login"].value == 1
    assert result.extra["features"]["export"].value == Decimal("0.25")


def test_round_value_is_half_even():
    assert kpis.round_value(Decimal("0.1234565")) == Decimal("0.123456")
    assert kpis.round_value(Decimal("0.1234575")) == Decimal("0.123458")


def test_health_score_rescales_weights():
    score = kpis.health_score({"a": (Decimal(100), Decimal(25)), "b": (None, Decimal(75))})
    assert score == 100
