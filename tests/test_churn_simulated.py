"""The churn model on a simulated company, whose churn drivers are known (simulation/drivers.py):
it recovers their direction above noise, features at a day never see later data, training is repeatable,
and the command trains, publishes, scores and backtests.

One company is simulated and imported for the whole module (a few seconds: 300 customers over 18
months, with few events per session since the features read user-days), everything is computed
inside one transaction that is rolled back, and the tests check the results.
"""

import datetime
import io
import random
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.models import Customer, Subscription, Ticket, UsageEvent
from churn import learning
from churn.dataset import labelled_dates, observations
from churn.feature_list import column_names, design_row
from churn.features import features_at
from churn.models import ChurnModel, ChurnScore
from churn.training import model_train
from metrics import rollups
from metrics.models import CsmRating, CustomerDayFeature, UsageSession, UserDayActivity
from metrics.periods import day_start
from surveys.models import SurveyResponse

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # the marker also makes pytest-django set up the test database

END = datetime.date(2025, 7, 1)
EVERY = 14  # days between dates: half the weekly work, still a few hundred churned customer-dates
CUT_DAYS = (datetime.date(2024, 11, 18), datetime.date(2025, 3, 3))
NOISE = ("noise_a", "noise_b", "noise_c")
# The simulator's drivers and the features that observe them, with the sign their coefficient must have.
DRIVERS = {"active_days_per_known_user": -1, "nps_detractor": +1, "open_tickets": +1}


def _cut_at(day: datetime.date) -> None:
    """Leave only what was known at the start of `day`: later rows go, later ends and resolutions are unknown."""
    at = day_start(day)
    UsageEvent.objects.filter(occurred_at__gte=at).delete()
    for model in (UserDayActivity, CustomerDayFeature):
        model.objects.filter(day__gte=day).delete()
    UsageSession.objects.all().delete()
    rollups.rebuild_all()
    Ticket.objects.filter(opened_at__gte=at).delete()
    Ticket.objects.filter(resolved_at__gte=at).update(resolved_at=None, contacts_count=None)
    Ticket.objects.filter(first_response_at__gte=at).update(first_response_at=None)
    SurveyResponse.objects.filter(responded_at__gte=at).delete()
    Subscription.objects.filter(started_at__gt=day).delete()
    Subscription.objects.filter(ended_at__gt=day).update(ended_at=None)
    CsmRating.objects.filter(created_at__gte=at).delete()


def _probabilities(model: ChurnModel, found: dict) -> dict:
    ids = sorted(found)
    return dict(zip(ids, learning.predict(model.params, [design_row(found[c]) for c in ids]), strict=True))


@pytest.fixture(scope="module")
def company(django_db_setup, django_db_blocker, tmp_path_factory):
    result = SimpleNamespace()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("simulate", customers=300, months=18, end=END, events_scale=0.05,
                     out=str(tmp_path_factory.mktemp("simulated")), stdout=io.StringIO())  # fmt: skip
        ids = list(Customer.objects.values_list("pk", flat=True))
        rows = observations(labelled_dates(END, every_days=7))
        rng = random.Random(11)
        result.recovered = learning.fit(
            [design_row(o.raw) + [rng.gauss(0, 1) for _ in NOISE] for o in rows], [o.churned for o in rows],
            [o.customer_id for o in rows], column_names() + list(NOISE), seed=0,
        )  # fmt: skip
        out = io.StringIO()
        call_command("churn_model", "train", "--today", END.isoformat(), "--every", EVERY, "--seed", 5, "--publish",
                     "--score", stdout=out)  # fmt: skip
        call_command("churn_model", "backtest", "--today", END.isoformat(), stdout=out)
        result.command_output = out.getvalue()
        first = ChurnModel.objects.get(version=1)
        second = ChurnModel.objects.get(pk=model_train(today=END, every_days=EVERY, seed=5).pk)
        result.first, result.second = ({"params": m.params, "evaluation": m.evaluation, "verdict": m.verdict}
                                       for m in (first, second))  # fmt: skip
        result.published = first.status == ChurnModel.Status.PUBLISHED
        result.scores = ChurnScore.objects.filter(day=END).count()
        result.paying = len(features_at(ids, END))
        before = {day: features_at(ids, day) for day in CUT_DAYS}
        _cut_at(CUT_DAYS[1])
        middle = {day: features_at(ids, day) for day in CUT_DAYS}
        _cut_at(CUT_DAYS[0])
        after = features_at(ids, CUT_DAYS[0])
        result.purity = {"before": before, "middle": middle, "after": after}
        result.probabilities = [(_probabilities(first, before[d]), _probabilities(first, middle[d])) for d in CUT_DAYS]
        transaction.set_rollback(True)
    return result


def test_the_model_recovers_the_direction_of_the_simulators_drivers(company):
    coef = dict(zip(company.recovered["columns"], company.recovered["parts"]["due"]["coef"], strict=True))
    for feature, sign in DRIVERS.items():
        assert coef[feature] * sign > 0, (feature, coef[feature])


def test_the_drivers_weigh_more_than_any_noise_feature(company):
    coef = dict(zip(company.recovered["columns"], company.recovered["parts"]["due"]["coef"], strict=True))
    noise = max(abs(coef[name]) for name in NOISE)
    assert all(abs(coef[feature]) > noise for feature in DRIVERS), ({f: coef[f] for f in DRIVERS}, noise)


def test_features_at_a_day_ignore_everything_dated_after_it(company):
    purity = company.purity
    for day in CUT_DAYS:
        assert purity["before"][day], day
        assert purity["middle"][day] == purity["before"][day], day
    assert purity["after"] == purity["before"][CUT_DAYS[0]]
    for full, cut in company.probabilities:
        assert cut == full


def test_training_twice_with_the_same_seed_gives_the_same_model(company):
    assert company.first == company.second
    assert company.first["params"]["parts"]["due"]["kind"] == "logistic"


def test_the_held_out_figures_cover_the_same_customer_dates_for_model_and_health(company):
    evaluation = company.first["evaluation"]
    assert evaluation["model"]["rows"] == evaluation["health"]["rows"] == evaluation["rows"] > 0
    assert evaluation["model"]["churned"] == evaluation["health"]["churned"] > 0
    assert len(evaluation["model"]["calibration"]) == 10
    assert 0.5 < evaluation["model"]["auc"] <= 1


def test_the_command_trains_publishes_scores_and_backtests(company):
    output = company.command_output
    assert "trained in" in output and "AUC difference" in output and "on 20" in output
    if company.published:
        assert "published v1" in output and company.scores == company.paying
    else:
        assert "does not qualify" in output and company.scores == 0
