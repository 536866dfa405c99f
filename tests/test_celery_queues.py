"""Every task goes to the queue of its kind of work (csplatform/celery.py, docs/scaling.md)."""

import pytest

from csplatform.celery import QUEUES, app

EXPECTED = {
    "metrics.snapshot_chunk": "snapshots",
    "metrics.snapshots_daily": "snapshots",
    "metrics.health_snapshot_chunk": "snapshots",
    "churn.scores_chunk": "snapshots",
    "churn.scores_daily": "snapshots",
    "accounts.import_run": "imports",
    "surveys.response_analyze": "analysis",
    "surveys.responses_analyze": "analysis",
    "churn.model_train": "analysis",
    "churn.model_backtest": "analysis",
    "churn.retrain_weekly": "analysis",
    "surveys.invitation_send": "emails",
    "surveys.reminder_send": "emails",
    "alerts.alert_email": "emails",
    "alerts.webhook_deliver": "emails",
    "alerts.evaluate_daily": "emails",
}


def _queue(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


@pytest.mark.parametrize(("task", "queue"), EXPECTED.items())
def test_a_task_goes_to_its_kinds_queue(task, queue):
    assert _queue(task) == queue


def test_every_task_of_ours_has_a_declared_queue_and_a_default_worker_consumes_them_all():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert set(EXPECTED) <= set(ours)
    assert {_queue(name) for name in ours} <= set(QUEUES)
    assert {q.name for q in app.amqp.queues.values()} == set(QUEUES)  # what a worker without -Q consumes
