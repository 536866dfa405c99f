"""When the alert rules run: the beat entry csplatform's schedule uses, and the next run a page shows.

Admins may change the entry in Django admin (Periodic tasks, django-celery-beat's database
scheduler); the next run then follows their crontab.
"""

import datetime

from celery.schedules import crontab

EVALUATE_TASK = "alerts.evaluate_daily"
EVALUATE_ENTRY = "alerts-evaluate-daily"
# Alert rules once the day's health scores and churn probabilities are stored; alerts make tasks before CSMs start.
EVALUATE_SCHEDULE = crontab(hour=4, minute=0)


def _stored_crontab():
    """The crontab an admin set for the evaluation in the database scheduler, or None."""
    try:
        from django_celery_beat.models import PeriodicTask
    except ImportError:  # the beat scheduler is not installed
        return None
    task = PeriodicTask.objects.filter(task=EVALUATE_TASK, enabled=True).select_related("crontab").first()
    if task is None or task.crontab is None:
        return None
    return task.crontab.schedule


def next_evaluation(now: datetime.datetime) -> datetime.datetime:
    """The next instant the alert rules are evaluated after `now` (aware)."""
    schedule = _stored_crontab() or EVALUATE_SCHEDULE
    schedule = crontab(
        minute=schedule._orig_minute, hour=schedule._orig_hour, day_of_week=schedule._orig_day_of_week,
        day_of_month=schedule._orig_day_of_month, month_of_year=schedule._orig_month_of_year,
        nowfun=lambda: now,
    )  # fmt: skip
    return now + schedule.remaining_estimate(now)
