"""Celery tasks of the churn model: weekly retraining, daily probabilities, training on demand.

Arguments are ids and ISO dates; the beat entry points read the clock, nothing below them does.
`churn.training` (NumPy, scikit-learn) is imported inside the training tasks: a web worker
that queues one, or that imports this module, never loads those libraries.
"""

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from accounts import reporting_time
from accounts.models import Customer
from churn.models import ChurnModel
from churn.scoring import scores_write

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError,)
CHUNK = 500


def _date(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else reporting_time.today()  # beat: today


def _user(user_id):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@shared_task(name="churn.retrain_weekly", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def retrain_weekly(day: str | None = None) -> int | None:
    """Train a version on the history known at `day` (beat: today), publish it if it qualifies, score the day."""
    from churn import training

    day = _date(day)
    try:
        model = training.model_retrain(today=day)
    except training.TrainingError as exc:
        log.warning("churn model not retrained: %s", exc)
        return None
    if model.status == ChurnModel.Status.PUBLISHED:
        scores_daily.delay(day.isoformat())
    return model.version


@shared_task(name="churn.model_train", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def model_train_task(day: str | None = None, user_id: int | None = None) -> int | None:
    """Train a draft version on demand (an admin's button); it is published from the model card."""
    from churn import training

    try:
        return training.model_train(today=_date(day), user=_user(user_id)).version
    except training.TrainingError as exc:
        log.warning("churn model not trained: %s", exc)
        return None


@shared_task(name="churn.model_backtest", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def model_backtest_task(model_id: int, day: str | None = None, user_id: int | None = None) -> int | None:
    """Backtest a version on every date since its training whose outcome is known."""
    from churn import training

    model = ChurnModel.objects.filter(pk=model_id).first()
    if model is None:
        log.warning("churn model %s is gone", model_id)
        return None
    try:
        return training.model_backtest(model=model, today=_date(day), user=_user(user_id)).pk
    except training.TrainingError as exc:
        log.warning("churn model %s not backtested: %s", model_id, exc)
        return None


@shared_task(name="churn.scores_chunk", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5, acks_late=True)
def scores_chunk(customer_ids: list[int], day: str) -> int:
    """Score these customers at the start of `day` with the published version and upsert (idempotent)."""
    return scores_write(_date(day), customer_ids)


@shared_task(name="churn.scores_daily", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def scores_daily(day: str | None = None) -> int:
    """Queue one chunk of customers per task for `day` (beat: today); return the number of tasks."""
    day = day or reporting_time.today().isoformat()
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(ids), CHUNK):
        scores_chunk.delay(ids[i : i + CHUNK], day)
    return (len(ids) + CHUNK - 1) // CHUNK
