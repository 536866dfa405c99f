"""Calendar helpers for the simulator: month arithmetic and the CSV date formats."""

import calendar
import datetime


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return `day` moved by `months`, clamped to the last day of the target month."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_starts(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Return the first days of the months in `[start, end)`; both are first days of a month."""
    months, day = [], start
    while day < end:
        months.append(day)
        day = add_months(day, 1)
    return months


def days_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Return every day in `[start, end)`."""
    return [start + datetime.timedelta(days=n) for n in range((end - start).days)]


def at(day: datetime.date, seconds: float) -> datetime.datetime:
    """Return the naive UTC instant `seconds` after midnight of `day`."""
    return datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=int(seconds))


def iso_datetime(instant: datetime.datetime | None) -> str:
    """Format a naive UTC instant for the CSV files (blank for None)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ") if instant else ""


def iso_date(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def money(cents: int) -> str:
    """Format integer cents as a decimal with a dot."""
    return f"{cents // 100}.{cents % 100:02d}"
