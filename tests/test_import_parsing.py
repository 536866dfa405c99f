"""Cell parsers: values and the messages a non-programmer reads."""

import datetime
from decimal import Decimal

import pytest

from importing.parsing import (
    CellError,
    parse_bool,
    parse_country,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_month,
    to_reporting_currency,
)


def message(parse, text):
    with pytest.raises(CellError) as exc:
        parse(text)
    return exc.value.message


def test_decimal_with_a_comma_suggests_the_dot():
    assert message(parse_decimal, "12,50") == '"12,50" is not a number (use a dot: 12.50)'


def test_decimal_rejects_words_and_infinity():
    assert message(parse_decimal, "abc") == '"abc" is not a number'
    assert message(parse_decimal, "NaN") == '"NaN" is not a number'


def test_decimal_with_thousands_separators_is_refused():
    assert "no thousands separator" in message(parse_decimal, "1,200,000")


def test_decimal_reads_a_dot():
    assert parse_decimal("12.50") == Decimal("12.50")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T09:30:00Z", datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC)),
        ("2024-03-01T09:30:00", datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC)),
        ("2024-03-01T10:30:00+01:00", datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC)),
        ("2024-03-01", datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)),
    ],
)
def test_datetimes_are_utc(text, expected):
    value = parse_datetime(text)
    assert value == expected
    assert value.utcoffset() == datetime.timedelta(0)


def test_datetime_error_shows_the_format():
    assert "use ISO 8601" in message(parse_datetime, "01.03.2024")


def test_date_must_be_iso_and_real():
    assert parse_date("2024-02-29") == datetime.date(2024, 2, 29)
    assert "use YYYY-MM-DD" in message(parse_date, "1.3.2024")
    assert message(parse_date, "2023-02-29") == '"2023-02-29" is not a real date'


def test_month_is_its_first_day():
    assert parse_month("2024-02") == datetime.date(2024, 2, 1)
    assert "use YYYY-MM" in message(parse_month, "2024-13")


@pytest.mark.parametrize(("text", "expected"), [("TRUE", True), ("yes", True), ("1", True), ("False", False), ("no", False), ("0", False)])
def test_booleans_in_any_case(text, expected):
    assert parse_bool(text) is expected


def test_boolean_error_lists_the_words():
    assert "use true/false, yes/no or 1/0" in message(parse_bool, "maybe")


def test_country_is_upper_cased_and_two_letters():
    assert parse_country("de") == "DE"
    assert "two-letter country code" in message(parse_country, "DEU")


def test_int_error():
    assert message(parse_int, "1.5") == '"1.5" is not a whole number'


def test_conversion_uses_the_configured_rate(settings):
    settings.CSPLATFORM_REPORTING_CURRENCY = "EUR"
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "0.5"}
    assert to_reporting_currency(Decimal("100"), "USD") == Decimal("50")
    assert to_reporting_currency(Decimal("100"), "EUR") == Decimal("100")
    assert "no exchange rate from GBP to EUR" in message(lambda t: to_reporting_currency(Decimal(1), t), "GBP")
