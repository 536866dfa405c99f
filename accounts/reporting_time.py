"""Dates in the reporting time zone (setting `CSPLATFORM_REPORTING_TZ`): the one place they are converted.

Every date the product shows, groups by or stores as a period is a day in the reporting
time zone, never the UI's (`TIME_ZONE`) nor UTC's. "Today", the instant a day begins,
the instants a run of days spans, and the day an instant falls on all come from here.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone


def reporting_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CSPLATFORM_REPORTING_TZ)


def today(now: datetime.datetime | None = None) -> datetime.date:
    """Return the reporting day of `now` (default: the clock)."""
    return day_of(now or timezone.now())


def day_start(day: datetime.date) -> datetime.datetime:
    """Return the instant a reporting day begins (midnight in the reporting time zone)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=reporting_tz())


def day_span(first: datetime.date, last: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Return the instants [start, end) of the reporting days `first` to `last` inclusive (default: `first` alone)."""
    last = last or first
    return day_start(first), day_start(last + datetime.timedelta(days=1))


def day_of(value: datetime.datetime | datetime.date) -> datetime.date:
    """Return the reporting day an instant falls on (a date is returned as it is)."""
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            raise ValueError("a naive datetime has no reporting day")
        return value.astimezone(reporting_tz()).date()
    return value
