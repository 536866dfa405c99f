"""The Celery application and its beat schedule; tasks live in each app's tasks.py.

django-celery-beat's DatabaseScheduler copies this schedule into the database, where
admins can see and change it in Django admin (Periodic tasks).
"""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

from alerts import schedule as alert_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")

app = Celery("csplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One queue per kind of work, so each can get its own workers (and hosts) as it grows; a worker
# started without -Q consumes all of them, as the demo's single worker does. docs/scaling.md.
QUEUES = {
    "celery": "everything not routed below (the default queue)",
    "snapshots": "KPI snapshots, daily health scores and churn probabilities: long, set-based database work",
    "imports": "CSV import jobs: file reading and bulk writes, memory-bound",
    "analysis": "survey comment analysis (language models) and churn model training and backtests: CPU-bound",
    "emails": "survey invitations and reminders, alert matching, alert emails, digests and webhooks: waiting on others",
}
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "celery"
app.conf.task_routes = {
    # DDL ahead of the imports that write into those tables; short, but not behind an hour of snapshots.
    "metrics.usage_partitions_ensure": {"queue": "imports"},
    "metrics.*": {"queue": "snapshots"},
    "churn.scores_*": {"queue": "snapshots"},
    "accounts.import_run": {"queue": "imports"},
    "surveys.response_analyze": {"queue": "analysis"},
    "surveys.responses_analyze": {"queue": "analysis"},
    "surveys.responses_analyze_pending": {"queue": "analysis"},
    "churn.model_*": {"queue": "analysis"},
    "churn.retrain_weekly": {"queue": "analysis"},
    "surveys.*": {"queue": "emails"},
    "alerts.*": {"queue": "emails"},
}

HOUR = 3600
app.conf.beat_schedule = {
    # After midnight, once the day's data is in: yesterday and the month to date for the company, segments and CSMs.
    "kpi-snapshots-daily": {
        "task": "metrics.snapshots_daily",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 6 * HOUR},
    },
    # The closed month for every scope, customers included, on the first, after the daily run has settled.
    "kpi-snapshots-monthly": {
        "task": "metrics.snapshots_monthly",
        "schedule": crontab(day_of_month=1, hour=3, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    # One reminder to survey invitees who have not answered after CSPLATFORM_SURVEY_REMINDER_DAYS.
    "survey-reminders": {
        "task": "surveys.reminders_send_due",
        "schedule": crontab(hour=9, minute=0),
        "options": {"expires": 6 * HOUR},
    },
    # Health scores of every customer at the start of the day, by the published model versions.
    "health-snapshots-daily": {
        "task": "metrics.health_snapshots_daily",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 6 * HOUR},
    },
    # Churn probabilities of every paying customer by the published churn model, before the alert rules read them.
    "churn-scores-daily": {
        "task": "churn.scores_daily",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 6 * HOUR},
    },
    # A new churn model on the week's outcomes; published only if it beats the health score on held-out dates.
    "churn-retrain-weekly": {
        "task": "churn.retrain_weekly",
        "schedule": crontab(day_of_week="sun", hour=3, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    # Alert rules once the day's health scores are stored; alerts make tasks before the CSMs start.
    # The time lives in alerts.schedule, which also tells the rule pages when the next run is.
    alert_schedule.EVALUATE_ENTRY: {
        "task": alert_schedule.EVALUATE_TASK,
        "schedule": alert_schedule.EVALUATE_SCHEDULE,
        "options": {"expires": 6 * HOUR},
    },
    # Playbook runs whose wait is over continue within the hour.
    "alerts-playbooks-due": {
        "task": "alerts.playbooks_due",
        "schedule": crontab(minute=10),
        "options": {"expires": HOUR},
    },
    # Each CSM's week ahead, in their inbox on Monday morning.
    "alerts-digest-weekly": {
        "task": "alerts.digest_weekly",
        "schedule": crontab(day_of_week="mon", hour=6, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    # Survey comments answered since the last run: language, sentiment and themes within a minute,
    # in batches on the analysis queue instead of one broker message per answer (docs/scaling.md).
    "survey-comments-analyse": {
        "task": "surveys.responses_analyze_pending",
        "schedule": crontab(),
        "options": {"expires": 60},
    },
    # Survey emails whose worker died between claim and send: their lease has run out, send them.
    "survey-stalled-sends": {
        "task": "surveys.stalled_sends_resume",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 600},
    },
    # Import jobs whose worker died (lease run out): queued again, or failed after three tries.
    "import-jobs-reclaim": {
        "task": "importing.jobs_reclaim",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 600},
    },
    # The coming months' partitions of the usage events and rollups (PostgreSQL), three months
    # ahead: daily, so a missed run costs nothing (rows without a month land in the default one).
    "usage-partitions-ensure": {
        "task": "metrics.usage_partitions_ensure",
        "schedule": crontab(hour=1, minute=5),
        "options": {"expires": 12 * HOUR},
    },
    # Late data: imports mark the days they touched; recompute those snapshots within the hour.
    "kpi-snapshots-stale": {
        "task": "metrics.snapshots_stale",
        "schedule": crontab(minute=40),
        "options": {"expires": HOUR},
    },
    # The data-quality gate: re-check what came in, so reports warn about suspicious periods
    # within the hour (metrics/quality.py; findings listed in admin: Quality issues).
    "data-quality-checks": {
        "task": "metrics.quality_checks",
        "schedule": crontab(minute=35),
        "options": {"expires": HOUR},
    },
    # Integrations (docs/integrations.md): tickets a missed Zendesk webhook would have brought, and
    # a nightly reconciliation with Stripe; both do nothing until the connection is set up.
    "integrations-zendesk-sync": {
        "task": "integrations.zendesk_sync",
        "schedule": crontab(minute=25),
        "options": {"expires": HOUR},
    },
    "integrations-stripe-sync": {
        "task": "integrations.stripe_sync",
        "schedule": crontab(hour=1, minute=20),
        "options": {"expires": 6 * HOUR},
    },
    # Prove the stored numbers: recompute every stored snapshot and keep the drifts for admins
    # (admin: Snapshot verifications). Sunday night, after the stale run, when nobody reads reports.
    "kpi-snapshots-verify": {
        "task": "metrics.snapshots_verify",
        "schedule": crontab(day_of_week="sun", hour=3, minute=50),
        "options": {"expires": 12 * HOUR},
    },
}
