"""Backtest: the pure AUC maths (no database) and a backtest over a small built history."""

import datetime
from decimal import Decimal

import pytest

from metrics import backtest_stats as stats
from metrics.backtest import backtest_dates, backtest_run, observations, summarize
from metrics.health_versions import default_model
from metrics.models import UserDayActivity
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory

D = datetime.date


@pytest.mark.parametrize(
    ("scores", "labels", "auc"),
    [
        ([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 1.0),
        ([0.1, 0.2, 0.8, 0.9], [True, True, False, False], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [True, False, True, False], 0.5),
        ([0.9, 0.5, 0.5, 0.1], [True, True, False, False], 0.875),  # one tie counts one half
        ([3, 1, 2, 2, 0], [True, False, True, False, False], 5.5 / 6),
    ],
)
def test_roc_auc_is_mann_whitney_u_with_ties(scores, labels, auc):
    assert stats.roc_auc(scores, labels) == pytest.approx(auc)


def test_roc_auc_is_none_without_both_classes():
    assert stats.roc_auc([1, 2], [True, True]) is None
    assert stats.roc_auc([], []) is None


def test_roc_auc_refuses_unequal_lengths():
    with pytest.raises(ValueError):
        stats.roc_auc([1, 2], [True])


def test_roc_curve_runs_from_origin_to_one_and_groups_ties():
    points = stats.roc_curve([0.9, 0.5, 0.5, 0.1], [True, True, False, False])
    assert points == [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]


def test_rate_is_none_for_an_empty_group():
    assert stats.rate(1, 4) == Decimal("0.25")
    assert stats.rate(0, 0) is None


def test_backtest_dates_end_at_least_90_days_before_today():
    assert backtest_dates(D(2024, 12, 15), 3) == [D(2024, 7, 1), D(2024, 8, 1), D(2024, 9, 1)]


@pytest.fixture
def history(db):
    """Four paying customers on 2024-03-01: the two idle ones churn within 90 days, one only contracts."""
    built = {}
    for name, active_days, ends, downsell in [("busy", 12, None, False), ("idle", 0, D(2024, 4, 1), False),
                                              ("quiet", 1, D(2024, 5, 1), False), ("shrinks", 12, D(2024, 4, 1), True)]:  # fmt: skip
        customer = CustomerFactory(name=name)
        SubscriptionFactory(customer=customer, started_at=D(2023, 1, 1), ended_at=ends, mrr=Decimal(100))
        if downsell:
            SubscriptionFactory(customer=customer, started_at=ends, mrr=Decimal(50))
        contact = ContactFactory(customer=customer)
        for day in range(1, active_days + 1):
            UserDayActivity.objects.create(customer=customer, contact=contact, day=D(2024, 2, day), events=1)
        built[name] = customer
    return built


def test_observations_follow_each_paying_customer_90_days(history):
    rows = {r["customer_id"]: r for r in observations(default_model(), [D(2024, 3, 1)])}
    assert {history[n].pk for n in history} == set(rows)
    assert rows[history["idle"].pk]["churned"] and rows[history["quiet"].pk]["churned"]
    assert not rows[history["shrinks"].pk]["churned"] and rows[history["shrinks"].pk]["contracted"]
    assert not rows[history["busy"].pk]["churned"]


def test_summary_states_auc_bands_and_the_healthy_customers_that_churned(history):
    result = summarize(observations(default_model(), [D(2024, 3, 1)]))
    assert result["auc"] == 1.0  # the churners are the least active ones
    assert result["components"]["frequency"]["auc"] == 1.0
    assert result["components"]["breadth"]["auc"] == 0.75  # "quiet" ties the others at 100: half a pair each
    assert result["churned"] == 2 and result["contracted"] == 1
    assert sum(b["customers"] for b in result["bands"].values()) == 4
    assert result["healthy_churned"] == []
    assert result["roc"][0] == [0.0, 0.0] and result["roc"][-1] == [1.0, 1.0]


def test_a_backtest_run_is_stored_with_its_auc(history, admin_user, django_assert_max_num_queries):
    model = default_model()
    with django_assert_max_num_queries(40):  # fixed per date: it does not grow with the customers
        run = backtest_run(model=model, dates=[D(2024, 2, 1), D(2024, 3, 1)], user=admin_user)
    assert run.model == model and run.dates == ["2024-02-01", "2024-03-01"]
    assert run.auc == Decimal(str(round(run.result["auc"], 6)))
