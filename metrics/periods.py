"""Half-open reporting periods [start, end) in the reporting time zone, and their series."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings

INTERVALS = ("day", "week", "month", "quarter")


def reporting_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CSPLATFORM_REPORTING_TZ)


def day_start(day: datetime.date) -> datetime.datetime:
    """Return the instant a reporting day begins (midnight in the reporting time zone)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=reporting_tz())


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the first day of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def __post_init__(self):
        if self.start >= self.end:
            raise ValueError("start must be before end")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_at(self) -> datetime.datetime:
        return day_start(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        return day_start(self.end)

    def whole_months(self) -> list["Period"]:
        """Return the calendar months lying wholly inside the period."""
        months = []
        first = self.start if self.start.day == 1 else add_months(self.start, 1)
        while add_months(first, 1) <= self.end:
            months.append(Period(first, add_months(first, 1)))
            first = add_months(first, 1)
        return months

    def month_starts(self) -> list[datetime.date]:
        """Return the first days of months that fall inside the period."""
        first = self.start if self.start.day == 1 else add_months(self.start, 1)
        days = []
        while first < self.end:
            days.append(first)
            first = add_months(first, 1)
        return days

    def previous(self) -> "Period":
        """Return the period of the same shape just before this one (a month before a month)."""
        if self.start.day == 1 and self.end.day == 1:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
            return Period(add_months(self.start, -months), self.start)
        return Period(self.start - (self.end - self.start), self.start)


def _next_boundary(day: datetime.date, interval: str) -> datetime.date:
    if interval == "day":
        return day + datetime.timedelta(days=1)
    if interval == "week":  # ISO weeks start on Monday
        return day + datetime.timedelta(days=7 - day.weekday())
    if interval == "month":
        return add_months(day, 1)
    if interval == "quarter":
        return add_months(day.replace(month=(day.month - 1) // 3 * 3 + 1), 3)
    raise ValueError(f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}")


def split(period: Period, interval: str) -> list[Period]:
    """Cut a period into calendar intervals; the first and last are clipped to the period."""
    parts, start = [], period.start
    while start < period.end:
        end = min(_next_boundary(start, interval), period.end)
        parts.append(Period(start, end))
        start = end
    return parts
