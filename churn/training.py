"""Train, evaluate, backtest and publish churn model versions.

Training is time-based: the held-out (test) dates are the last `test_days` of dates whose
outcome is known; the training dates end `horizon` days before the first test date, so no
training label looks into the test period. The model is fitted on the training dates and
judged on the test dates beside the published health score on exactly the same
customer-dates. It qualifies for publishing when it beats the health score there:
the 95 % interval of the AUC difference lies above 0 and its Brier score is lower than
that of the health score turned into a probability (Platt scaling on the training dates).
The stored model is the one that was judged: what scores customers is what was tested.
"""

import datetime
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from churn import evaluation, learning
from churn.dataset import labelled_dates, observations
from churn.feature_list import FEATURE_VERSION, column_names, design_row
from churn.features import HORIZON_DAYS
from churn.models import ChurnBacktest, ChurnModel
from churn.publishing import PublishError, model_publish
from metrics.health_versions import PublishError as PublishHealthError
from metrics.health_versions import default_model

EVERY_DAYS = 7
TEST_DAYS = 90
MIN_TRAIN_DATES = 4
MIN_TEST_DATES = 2
MIN_TEST_DAYS = 28

__all__ = ["PublishError", "TrainingError", "model_backtest", "model_publish", "model_retrain", "model_train"]


class TrainingError(Exception):
    """Not enough history (dates, churned and retained customers) to train and test a model."""


@dataclass(frozen=True)
class Split:
    train: list[datetime.date]
    test: list[datetime.date]


def split_dates(dates: list[datetime.date], *, test_days: int = TEST_DAYS, horizon: int = HORIZON_DAYS) -> Split:
    """Return the training and test dates: the test dates are the last `test_days`; training labels end before them.

    With a short history the test window shrinks (to half of what the gap leaves, at least
    MIN_TEST_DAYS), so that the training dates keep at least as much time as the test.
    """
    if not dates:
        raise TrainingError("no dates with a known outcome yet: the data needs more than the horizon of history")
    last = dates[-1]
    test_days = min(test_days, max(MIN_TEST_DAYS, ((last - dates[0]).days - horizon) // 2))
    test = [d for d in dates if d > last - datetime.timedelta(days=test_days)]
    train = [d for d in dates if d + datetime.timedelta(days=horizon) <= test[0]]
    if len(train) < MIN_TRAIN_DATES or len(test) < MIN_TEST_DATES:
        raise TrainingError(
            f"{len(train)} training and {len(test)} test dates: need at least {MIN_TRAIN_DATES} and "
            f"{MIN_TEST_DATES} (about {horizon + test_days + MIN_TRAIN_DATES * EVERY_DAYS} days of outcomes)"
        )
    return Split(train, test)


def _design(rows):
    return [design_row(o.raw) for o in rows]


def evaluate(params: dict, rows, health_calibration: dict, *, seed: int) -> dict:
    """Return the held-out figures of the model and the health score on the rows that have both."""
    scored = [o for o in rows if o.health is not None]
    labels = [o.churned for o in scored]
    groups = [o.customer_id for o in scored]
    probabilities = learning.predict(params, _design(scored))
    health_risk = [100 - o.health for o in scored]
    health_probabilities = learning.apply_calibration(health_calibration, [o.health for o in scored])
    days = sorted({o.day for o in scored})
    return {
        "rows": len(scored),
        "without_health_score": len(rows) - len(scored),
        "customers": len(set(groups)),
        "churned_customers": len({o.customer_id for o in scored if o.churned}),
        "dates": {"first": days[0].isoformat() if days else None, "last": days[-1].isoformat() if days else None,
                  "count": len(days)},  # fmt: skip
        "model": evaluation.summary(probabilities, labels, groups),
        "health": evaluation.summary(health_probabilities, labels, groups, ranking=health_risk),
        "comparison": evaluation.auc_comparison(probabilities, health_risk, labels, groups, seed=seed),
        "health_calibration": health_calibration,
    }


def judge(result: dict) -> tuple[bool, list[dict]]:
    """Return (qualifies, one check per condition): AUC better beyond chance, Brier score lower."""
    difference = result["comparison"]["difference"]
    ci = difference["ci"]
    auc_ok = ci is not None and ci[0] > 0
    model_brier, health_brier = result["model"]["brier"], result["health"]["brier"]
    brier_ok = model_brier is not None and health_brier is not None and model_brier < health_brier
    checks = [
        {"check": "auc", "ok": auc_ok, "model": result["model"]["auc"], "health": result["health"]["auc"],
         "difference": difference["auc"], "ci": ci},  # fmt: skip
        {"check": "brier", "ok": brier_ok, "model": model_brier, "health": health_brier},
    ]
    return auc_ok and brier_ok, checks


def model_train(
    *, today: datetime.date, horizon: int = HORIZON_DAYS, every_days: int = EVERY_DAYS, test_days: int = TEST_DAYS,
    seed: int = 0, user=None, progress=None,
) -> ChurnModel:  # fmt: skip
    """Fit a new draft version on the history known at `today`, judge it on held-out dates and store it."""
    started = time.monotonic()
    split = split_dates(labelled_dates(today, every_days=every_days, horizon=horizon), test_days=test_days, horizon=horizon)
    try:
        health_model = default_model()
    except PublishHealthError as exc:
        raise TrainingError(f"the health score to compare with: {exc}") from None
    rows = observations(split.train + split.test, horizon=horizon, with_health=True, progress=progress)
    test_days_set = set(split.test)
    train = [o for o in rows if o.day not in test_days_set]
    test = [o for o in rows if o.day in test_days_set]
    try:
        params = learning.fit(_design(train), [o.churned for o in train], [o.customer_id for o in train], column_names(), seed=seed)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    rated = [o for o in train if o.health is not None]
    calibration = learning.calibrate_score([o.health for o in rated], [o.churned for o in rated], seed=seed)
    result = evaluate(params, test, calibration, seed=seed)
    qualifies, verdict = judge(result)
    with transaction.atomic():
        latest = ChurnModel.objects.select_for_update().aggregate(v=Max("version"))["v"]
        return ChurnModel.objects.create(
            version=(latest or 0) + 1, algorithm=params["algorithm"], feature_version=FEATURE_VERSION,
            columns=params["columns"], params=params, horizon_days=horizon, every_days=every_days, seed=seed,
            train_start=split.train[0], train_end=split.train[-1], test_start=split.test[0], test_end=split.test[-1],
            health_model_label=health_model.label, evaluation=result, qualifies=qualifies, verdict=verdict,
            trained_seconds=round(time.monotonic() - started, 2), created_by=user,
        )  # fmt: skip


def model_backtest(*, model: ChurnModel, today: datetime.date, user=None, progress=None) -> ChurnBacktest:
    """Judge a stored version again on every date from its test start whose outcome is known at `today`."""
    dates = [d for d in labelled_dates(today, every_days=model.every_days, horizon=model.horizon_days) if d >= model.test_start]
    if not dates:
        raise TrainingError("no dates after the model's training whose outcome is known yet")
    rows = observations(dates, horizon=model.horizon_days, with_health=True, progress=progress)
    result = evaluate(model.params, rows, model.evaluation["health_calibration"], seed=model.seed)
    return ChurnBacktest.objects.create(model=model, start=dates[0], end=dates[-1], evaluation=result, created_by=user)


def model_retrain(*, today: datetime.date, user=None, progress=None) -> ChurnModel:
    """Train a version with the defaults and publish it when it qualifies (the weekly job)."""
    model = model_train(today=today, user=user, progress=progress)
    if model.qualifies:
        model = model_publish(model=model, user=user)
    return model
