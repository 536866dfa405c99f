"""Pure survey statistics (no database)."""

from decimal import Decimal

import pytest

from metrics import kpis
from surveys import stats


def test_nps_interval_is_none_without_responses():
    assert stats.nps_interval({}) is None


def test_nps_interval_surrounds_the_nps():
    counts = {10: 30, 9: 20, 8: 20, 7: 10, 5: 10, 0: 10}
    interval = stats.nps_interval(counts)
    value = float(kpis.nps(counts).value)
    assert interval.low < value < interval.high
    assert value == pytest.approx(30.0)
    # p = .5, d = .2: se = sqrt((.7 - .09) / 100) = .0781; half-width 15.3 points
    assert interval.high - interval.low == pytest.approx(2 * 1.959964 * 100 * (0.61 / 100) ** 0.5, rel=1e-6)


def test_nps_interval_is_a_point_when_everyone_agrees():
    interval = stats.nps_interval({10: 5})
    assert interval.low == interval.high == 100.0


def test_wilson_interval_stays_inside_zero_and_one():
    interval = stats.wilson_interval(3, 3)
    assert 0 < interval.low < 1 and interval.high == pytest.approx(1.0)
    assert stats.wilson_interval(0, 0) is None


def test_share_interval_counts_scores_at_least_the_minimum():
    assert stats.share_interval({5: 2, 4: 2, 1: 4}, 4) == stats.wilson_interval(4, 8)


def test_weighted_counts_sum_weights_and_ignore_missing_ones():
    pairs = [(10, Decimal("100")), (10, Decimal("50")), (3, None), (3, Decimal("200")), (8, Decimal("-1"))]
    assert stats.weighted_counts(pairs) == {10: Decimal("150"), 3: Decimal("200"), 8: Decimal("0")}


def test_revenue_weighted_nps_comes_from_the_kpi_formula():
    weighted = stats.weighted_counts([(10, Decimal("300")), (0, Decimal("100"))])
    assert kpis.nps(weighted).value == Decimal(50)


def test_median_seconds():
    assert stats.median_seconds([]) is None
    assert stats.median_seconds([10, 30, 20, 40]) == 25


@pytest.mark.parametrize(("n", "expected"), [(0, True), (29, True), (30, False)])
def test_too_few_marks_small_samples(n, expected):
    assert stats.too_few(n, 30) is expected
