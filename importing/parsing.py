"""Turning CSV cells into Python values, with messages a non-programmer understands.

Every parser takes the stripped cell text and returns a value or raises `CellError`
with the message that ends up in the import report (the caller adds file, line and
column). Blank cells never reach these parsers: blank means "not given".
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings

from lib.dates import window_error
from lib.text import ONE_LINE_MESSAGE, has_line_break

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_CENTS = Decimal("0.000001")  # the models' six decimal places


class CellError(ValueError):
    """A cell's text does not mean what its column needs; `message` is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def parse_line(text: str) -> str:
    """Return text that must fit on one line (a name shown in email subjects and CSV exports)."""
    if has_line_break(text):
        raise CellError(ONE_LINE_MESSAGE)
    return text


def parse_date(text: str) -> datetime.date:
    """Return the date of an ISO `YYYY-MM-DD` cell."""
    if _DATE.fullmatch(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            raise CellError(f'"{text}" is not a real date') from None
        return _in_window(day)
    raise CellError(f'"{text}" is not a date (use YYYY-MM-DD, e.g. 2024-03-01)')


def _in_window(value):
    """Return `value` if it lies in the accepted window of dates (lib.dates); raise CellError otherwise."""
    message = window_error(value)
    if message:
        raise CellError(message)
    return value


def parse_datetime(text: str) -> datetime.datetime:
    """Return an aware UTC datetime for an ISO 8601 cell; no offset means UTC, "Z" is accepted."""
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CellError(f'"{text}" is not a date and time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)') from None
    if value.tzinfo is None:
        return _in_window(value.replace(tzinfo=datetime.UTC))
    try:
        return _in_window(value.astimezone(datetime.UTC))
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 lies before the first representable instant
        raise CellError(f'"{text}" is out of the range of dates that can be stored') from None


def parse_month(text: str) -> datetime.date:
    """Return the first day of a `YYYY-MM` month."""
    match = _MONTH.fullmatch(text)
    if match and 1 <= int(match[2]) <= 12:
        return _in_window(datetime.date(int(match[1]), int(match[2]), 1))
    raise CellError(f'"{text}" is not a month (use YYYY-MM, e.g. 2024-03)')


def parse_decimal(text: str) -> Decimal:
    """Return the Decimal of a number written with a dot."""
    if "," in text:
        hint = text.replace(".", "").replace(",", ".") if text.count(",") == 1 else None
        advice = f"use a dot: {hint}" if hint else "use a dot, no thousands separator"
        raise CellError(f'"{text}" is not a number ({advice})')
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(f'"{text}" is not a number') from None
    if not value.is_finite():
        raise CellError(f'"{text}" is not a number')
    return value


def parse_int(text: str) -> int:
    """Return the int of a whole-number cell."""
    try:
        return int(text)
    except ValueError:
        raise CellError(f'"{text}" is not a whole number') from None


def parse_bool(text: str) -> bool:
    """Return True or False for true/false, yes/no, 1/0 in any case."""
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(f'"{text}" is not true or false (use true/false, yes/no or 1/0)')


def parse_country(text: str) -> str:
    """Return an ISO 3166-1 alpha-2 code in upper case."""
    code = text.upper()
    if _COUNTRY.fullmatch(code):
        return code
    raise CellError(f'"{text}" is not a two-letter country code (e.g. DE, US)')


def parse_currency(text: str) -> str:
    """Return an ISO 4217 code in upper case."""
    code = text.upper()
    if _CURRENCY.fullmatch(code):
        return code
    raise CellError(f'"{text}" is not a three-letter currency code (e.g. EUR, USD)')


def to_reporting_currency(amount: Decimal, currency: str) -> Decimal:
    """Return `amount` in `currency` converted with CSPLATFORM_EXCHANGE_RATES into the reporting currency."""
    if currency == settings.CSPLATFORM_REPORTING_CURRENCY:
        return amount
    rate = settings.CSPLATFORM_EXCHANGE_RATES.get(currency)
    if rate is None:
        raise CellError(
            f'no exchange rate from {currency} to {settings.CSPLATFORM_REPORTING_CURRENCY} '
            "(set CSPLATFORM_EXCHANGE_RATES, e.g. USD=0.92)"
        )
    return (amount * Decimal(str(rate))).quantize(_CENTS)


def as_utc_start(day: datetime.date) -> datetime.datetime:
    """Return midnight UTC at the start of `day`."""
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
