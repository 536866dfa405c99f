"""The window of dates the app accepts, for every input: imports, REST writes and queries, pages.

A day outside it (year 1, 9999, a typo like 20245-01-01) is refused with a message naming
the window instead of crashing the date arithmetic behind a report or a KPI (the day
after 9999-12-31 does not exist). Every parser of a date or instant asks `window_error`:
importing.parsing (CSV cells and REST writes), the DRF query fields and Django form fields
(`validate_in_window`), the usage-event fast paths and the commands' arguments.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2199, 12, 31)
WINDOW = f"{EARLIEST.isoformat()} to {LATEST.isoformat()}"


def window_error(value: datetime.date | datetime.datetime | None) -> str | None:
    """Return why `value` lies outside the accepted window (a date, or an instant judged by its UTC day), or None."""
    if value is None:
        return None
    day = value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                return f"is outside the dates this app accepts ({WINDOW})"
        day = value.date()
    if day < EARLIEST or day > LATEST:
        return f"{day.isoformat()} is outside the dates this app accepts ({WINDOW})"
    return None


def validate_in_window(value) -> None:
    """A validator for Django form fields and DRF fields: refuse a date or instant outside the window."""
    if window_error(value):
        day = value.date() if isinstance(value, datetime.datetime) else value
        raise ValidationError(
            _("%(day)s is outside the dates this app accepts (%(window)s)"),
            code="date_out_of_range",
            params={"day": day.isoformat(), "window": WINDOW},
        )


def parse_day(text: str) -> datetime.date:
    """Parse an ISO `YYYY-MM-DD` within the window; ValueError with a message otherwise (commands, task arguments)."""
    try:
        day = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    message = window_error(day)
    if message:
        raise ValueError(message)
    return day
