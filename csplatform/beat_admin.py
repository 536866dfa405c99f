"""django-celery-beat's crontab schedule admin, with a description that survives a refused schedule.

Its read-only "human readable" field builds a celery crontab from the instance. A form refused
for `minute=-1` is redrawn with the posted values on the instance, and celery's ParseException
(not a ValueError, the only error the model's property catches) answered 500 instead of the
form's errors. The admin shows the raw cron expression then.
"""

from celery.schedules import ParseException
from django.contrib import admin
from django_celery_beat.admin import CrontabScheduleAdmin as BeatCrontabScheduleAdmin
from django_celery_beat.models import CrontabSchedule


class CrontabScheduleAdmin(BeatCrontabScheduleAdmin):
    @admin.display(description="human readable")
    def human_readable(self, obj):
        try:
            return obj.human_readable
        except (ParseException, ValueError):
            return str(obj)


def register(site):
    """Replace django-celery-beat's crontab admin on `site` (after autodiscover registered it)."""
    site.unregister(CrontabSchedule)
    site.register(CrontabSchedule, CrontabScheduleAdmin)
