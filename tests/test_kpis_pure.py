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


@pytest.mark.parametrize(
    ("component", "args", "expected"),
    [
        # 30 user-days over 5 users = 6 days each, half the target of 12: 50
        (kpis.health_frequency, (30, 5, Decimal(12)), Decimal(50)),
        (kpis.health_frequency, (100, 5, Decimal(12)), Decimal(100)),  # 20 days > 12: capped
        (kpis.health_frequency, (0, 0, Decimal(12)), None),
        (kpis.health_breadth, (3, 4), Decimal(75)),
        (kpis.health_breadth, (0, 0), None),
        (kpis.health_depth, (1, 4), Decimal(25)),
        (kpis.health_sentiment, ([9, 6, 10],), Decimal("250") / 3),  # 10 × 25 / 3
        (kpis.health_sentiment, ([],), None),
        (kpis.health_support, (3, 4), Decimal(75)),
        (kpis.health_growth, (Decimal(110), Decimal(100)), Decimal(55)),  # +10 %
        (kpis.health_growth, (Decimal(300), Decimal(100)), Decimal(100)),  # +200 % clamps to +100 %
        (kpis.health_growth, (Decimal(0), Decimal(100)), Decimal(0)),  # lost it all
        (kpis.health_growth, (Decimal(50), Decimal(0)), None),  # nothing to compare with
        (kpis.health_csm_rating, (4,), Decimal(75)),
        (kpis.health_csm_rating, (None,), None),
    ],
)
def test_health_components_score_0_to_100_or_none_without_data(component, args, expected):
    assert component(*args) == expected


@pytest.mark.parametrize("survey_type", ["nps", "csat", "ces"])
def test_kpis_count_each_answer_in_the_band_the_survey_pages_show(survey_type):
    from surveys import scales

    low, high = scales.SCALES[survey_type]
    for score in range(low, high + 1):
        band = scales.band(survey_type, score)
        if survey_type == "nps":
            extra = kpis.nps({score: 1}).extra
            assert (extra["promoters"], extra["passives"], extra["detractors"]) == (
                band == "high", band == "mid", band == "low"
            )
        else:
            share = (kpis.csat if survey_type == "csat" else kpis.ces)({score: 1}).value
            assert share == (1 if band == "high" else 0)
