"""Argument parsing shared by the metrics commands (a leading underscore: not a command)."""

import datetime

from django.core.management.base import CommandError

from lib.dates import parse_day


def iso_date(value: str) -> datetime.date:
    try:
        return parse_day(value)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
