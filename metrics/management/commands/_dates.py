"""Argument parsing shared by the metrics commands (a leading underscore: not a command)."""

import datetime

from django.core.management.base import CommandError


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None
