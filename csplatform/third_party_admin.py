"""Third-party model admins with the 500s the admin hostile-input test found, fixed in a subclass.

- django-celery-beat's crontab schedule: its read-only "human readable" field builds a celery
  crontab from the instance. A form refused for `minute=-1` is redrawn with the posted values on
  the instance, and celery's ParseException (not a ValueError, the only error the model's
  property catches) answered 500 instead of the form's errors. The raw cron expression is shown
  then.
- django-axes' login attempts: the "Clean up expired attempts" action reads
  `request.axes_attempt_time`, which only axes' login handling sets; from admin it raised an
  AttributeError. Unset, axes measures the cool-off from now.
"""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
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


class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description=AxesAccessAttemptAdmin.cleanup_expired_attempts.short_description)
    def cleanup_expired_attempts(self, request, queryset):
        if not hasattr(request, "axes_attempt_time"):
            request.axes_attempt_time = None
        return super().cleanup_expired_attempts(request, queryset)


def register(site):
    """Replace the third-party admins above on `site` (after autodiscover registered theirs)."""
    for model, model_admin in ((CrontabSchedule, CrontabScheduleAdmin), (AccessAttempt, AccessAttemptAdmin)):
        site.unregister(model)
        site.register(model, model_admin)
