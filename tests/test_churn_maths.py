"""Churn model maths without a database: the design matrix, fitting, figures with their intervals, drivers."""

import datetime
import json
import math

import pytest
from django.utils import translation

from churn import evaluation, learning, wording
from churn.drivers import top_drivers
from churn.feature_list import FEATURES, column_names, design_row
from churn.features import next_term_end
from tests.churn_support import raw_features, synthetic_observations

D = datetime.date


def _fit(rows, seed=0):
    return learning.fit([design_row(o.raw) for o in rows], [o.churned for o in rows], [o.customer_id for o in rows],
                        column_names(), seed=seed)  # fmt: skip


@pytest.fixture(scope="module")
def rows():
    return synthetic_observations()


@pytest.fixture(scope="module")
def fitted(rows):
    return _fit(rows)


# --- Feature list and contracts ----------------------------------------------------------


def test_design_rows_log_counts_and_flag_missing_values():
    columns = column_names()
    row = dict(zip(columns, design_row(raw_features(open_tickets=3.0, latest_nps=None, hours_to_resolve=5.0)), strict=True))
    assert row["open_tickets"] == pytest.approx(math.log(4))
    assert row["latest_nps"] is None and row["latest_nps_missing"] == 1.0
    assert row["hours_to_resolve"] == pytest.approx(math.log(6)) and row["hours_to_resolve_missing"] == 0.0
    assert len(columns) == len(FEATURES) + sum(f.can_be_missing for f in FEATURES)


@pytest.mark.parametrize(
    ("started", "months", "day", "ends"),
    [
        (D(2024, 3, 10), 1, D(2024, 6, 1), D(2024, 6, 10)),
        (D(2024, 3, 10), 1, D(2024, 6, 10), D(2024, 7, 10)),  # a term ending on the day is over
        (D(2024, 3, 10), 12, D(2024, 6, 1), D(2025, 3, 10)),
        (D(2023, 3, 10), 12, D(2025, 3, 9), D(2025, 3, 10)),  # the second renewal
        (D(2024, 1, 31), 1, D(2024, 2, 5), D(2024, 2, 29)),  # a month without a 31st
    ],
)
def test_the_next_term_end_follows_the_billing_period(started, months, day, ends):
    assert next_term_end(started, months, day) == ends


# --- Fitting ------------------------------------------------------------------------------


def test_the_model_learns_the_direction_of_each_driver(fitted):
    coef = dict(zip(fitted["columns"], fitted["parts"]["due"]["coef"], strict=True))
    assert coef["active_days_per_known_user"] < 0
    assert coef["nps_detractor"] > 0
    assert coef["open_tickets"] > 0


def test_contracts_that_cannot_end_get_the_rate_they_had(fitted, rows):
    part = fitted["parts"]["not_due"]
    not_due = [o for o in rows if o.raw["renewal_due"] == 0.0]
    assert part["kind"] == "rate" and part["rows"] == len(not_due) and part["churned"] == 0
    assert part["rate"] == pytest.approx(0.5 / (len(not_due) + 1))  # Jeffreys: never exactly 0
    annual = design_row(raw_features(renewal_due=0.0, annual_billing=1.0, active_days_per_known_user=0.0))
    assert learning.predict(fitted, [annual]) == [part["rate"]]
    assert learning.contributions(fitted, annual) == []


def test_a_fitted_model_is_plain_json_and_predicts_the_same_after_a_round_trip(fitted):
    again = json.loads(json.dumps(fitted))
    row = design_row(raw_features(active_days_per_known_user=1.0, open_tickets=2.0))
    assert learning.predict(again, [row]) == learning.predict(fitted, [row])


def test_fitting_twice_with_the_same_seed_gives_the_same_model(rows, fitted):
    assert _fit(rows, seed=0) == fitted


def test_the_contributions_add_up_to_the_log_odds(fitted):
    row = design_row(raw_features(active_days_per_known_user=1.0, nps_detractor=1.0, latest_nps=3.0))
    p = learning.predict(fitted, [row])[0]
    logit = math.log(p / (1 - p))
    assert fitted["parts"]["due"]["intercept"] + sum(c.logit for c in learning.contributions(fitted, row)) == pytest.approx(logit)


def test_training_needs_both_outcomes(rows):
    with pytest.raises(ValueError, match="both churned and retained"):
        learning.fit([design_row(o.raw) for o in rows[:5]], [False] * 5, [1] * 5, column_names())


def test_platt_scaling_turns_a_score_into_a_rising_probability():
    scores = [10, 20, 30, 40, 50, 60, 70, 80, 90] * 5
    labels = [s < 45 and i % 2 == 0 for i, s in enumerate(scores)]
    low, high = learning.apply_calibration(learning.calibrate_score(scores, labels), [10, 90])
    assert low > high


# --- Figures ------------------------------------------------------------------------------


def test_top_decile_lift_is_the_riskiest_tenths_churn_rate_over_the_overall_rate():
    scores = list(range(20))  # the two highest scores are the riskiest tenth
    labels = [i in (19, 5) for i in range(20)]
    assert evaluation.top_decile_lift(scores, labels) == pytest.approx((1 / 2) / (2 / 20))
    assert evaluation.top_decile_lift(scores, [False] * 20) is None


def test_brier_score_is_the_mean_squared_gap():
    assert evaluation.brier([0.9, 0.2, 0.5], [True, False, True]) == pytest.approx((0.01 + 0.04 + 0.25) / 3)


def test_one_customers_dates_count_as_one_when_they_agree():
    assert evaluation.effective_rows([True] * 5 + [False] * 5, [1] * 5 + [2] * 5) == 2.0
    assert evaluation.effective_rows([False] * 6, [1, 2, 3, 4, 5, 6]) == 6.0


def test_calibration_bands_contain_a_decile_predicted_as_observed():
    probabilities = [i / 100 for i in range(100)]
    labels = [i % 10 < round(p * 10) for i, p in enumerate(probabilities)]
    deciles = evaluation.calibration(probabilities, labels, list(range(100)))
    assert [d["rows"] for d in deciles] == [10] * 10
    assert [d["effective_rows"] for d in deciles] == [10.0] * 10  # one customer per row: all count
    assert all(d["inside"] for d in deciles)
    wrong = evaluation.calibration([0.9] * 50, [False] * 50, list(range(50)), bins=1)
    assert wrong[0]["inside"] is False


def test_the_auc_interval_holds_the_auc_and_resamples_customers_together(rows):
    scores = [o.raw["active_days_per_known_user"] for o in rows]
    rule = [o.health for o in rows]
    labels, groups = [o.churned for o in rows], [o.customer_id for o in rows]
    result = evaluation.auc_comparison([-s for s in scores], [-h for h in rule], labels, groups, seed=3, rounds=200)
    low, high = result["model"]["ci"]
    assert low < result["model"]["auc"] < high
    assert result["difference"]["auc"] == pytest.approx(result["model"]["auc"] - result["rule"]["auc"])
    assert evaluation.auc_comparison([-s for s in scores], [-h for h in rule], labels, groups, seed=3, rounds=200) == result
    other = evaluation.auc_comparison([-s for s in scores], [-h for h in rule], labels, groups, seed=4, rounds=200)
    assert other["model"]["ci"] != result["model"]["ci"]  # the seed drives the resampling
    rows_apart = evaluation.auc_comparison([-s for s in scores], [-h for h in rule], labels, range(len(rows)), seed=3,
                                           rounds=200)  # fmt: skip
    width = high - low
    assert rows_apart["model"]["ci"][1] - rows_apart["model"]["ci"][0] < width  # dates are not independent customers


def test_the_weighted_auc_of_unit_weights_is_the_plain_auc():
    scores, labels = [0.9, 0.5, 0.5, 0.1, 0.3], [True, True, False, False, True]
    _values, levels = __import__("numpy").unique(scores, return_inverse=True)
    weighted = evaluation._weighted_auc(levels, __import__("numpy").array(labels, dtype=float),
                                        __import__("numpy").ones(5), levels.max() + 1)  # fmt: skip
    assert weighted == pytest.approx(evaluation.roc_auc(scores, labels))


# --- Drivers in words ----------------------------------------------------------------------


def test_the_drivers_are_the_features_adding_most_risk(fitted):
    raw = raw_features(active_days_per_known_user=0.5, active_days_per_user=0.7, open_tickets=2.0, nps_detractor=1.0,
                       latest_nps=3.0)  # fmt: skip
    before = raw_features(active_days_per_known_user=7.0, active_days_per_user=9.0)
    drivers = top_drivers(fitted, design_row(raw), raw, before)
    assert 3 <= len(drivers) <= 5
    assert [d["logit"] for d in drivers] == sorted((d["logit"] for d in drivers), reverse=True)
    assert all(d["logit"] > 0 for d in drivers)
    features = [d["feature"] for d in drivers]
    assert "active_days_per_known_user" in features[:3]
    assert "latest_nps" in features and "nps_detractor" not in features  # the flag is said with its answer
    with translation.override("en"):
        sentences = wording.driver_sentences(drivers)
    assert len(sentences) == 3 == len(set(sentences))
    assert any(s.startswith("The latest NPS answer was a detractor’s: 3 of 10 (typical: 7")
               for s in wording.driver_sentences(drivers, limit=5))  # fmt: skip


def test_a_driver_reads_as_a_change_in_english_and_german():
    driver = {"feature": "active_days_per_user", "value": 3.0, "before": 9.0, "typical": 7.5, "higher_is_riskier": False}
    with translation.override("en"):
        assert wording.driver_sentence(driver) == "Active days per user fell from 9 to 3"
    with translation.override("de"):
        assert wording.driver_sentence(driver) == "Aktive Tage pro Nutzer: von 9 auf 3 gefallen"


def test_a_driver_without_a_risky_change_reads_against_the_typical_value():
    driver = {"feature": "open_tickets", "value": 4.0, "before": 4.0, "typical": 0.3, "higher_is_riskier": True}
    with translation.override("en"):
        assert wording.driver_sentence(driver) == "Open tickets: 4 (typical: 0.3)"
    missing = {"feature": "latest_nps", "value": None, "before": None, "typical": 7.5, "higher_is_riskier": False}
    with translation.override("de"):
        assert wording.driver_sentence(missing) == "Keine NPS-Antwort in 180 Tagen"


def test_a_score_that_fell_is_quoted_without_its_scale():
    driver = {"feature": "latest_csat", "value": 2.0, "before": 4.0, "typical": 4.1, "higher_is_riskier": False}
    with translation.override("en"):
        assert wording.driver_sentence(driver) == "Latest CSAT answer fell from 4 to 2"
    driver["before"] = 2.0
    with translation.override("en"):
        assert wording.driver_sentence(driver) == "Latest CSAT answer: 2 of 5 (typical: 4.1 of 5)"


def test_per_user_figures_without_any_user_say_nobody_was_active():
    drivers = [{"feature": name, "value": 0.0, "before": 10.0, "typical": 9.0, "higher_is_riskier": False,
                "details": {"active_users": 0}} for name in ("events_per_active_user", "sessions_per_active_user")]
    with translation.override("en"):
        assert wording.driver_sentences(drivers) == ["Nobody was active in the last 30 days"]
