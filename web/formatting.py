"""How numbers look on the pages: amounts in the reporting currency, plain numbers,
percentages, durations and scores, localized and rounded half-even. `—` stands for no value.
"""

from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.utils import formats

from metrics.kpis import Kpi

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}


def decimal_of(value) -> Decimal | None:
    """Return a value (a Kpi, a number, a numeric string) as a Decimal; None for no value."""
    if value is None or value == "":
        return None
    if isinstance(value, Kpi):
        value = value.value
        if value is None:
            return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _fmt(value: Decimal, places: int) -> str:
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def money(value, places=0):
    """Format an amount in the reporting currency with thousands separators: €12,345."""
    value = decimal_of(value)
    if value is None:
        return "—"
    currency = settings.CSPLATFORM_REPORTING_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{_fmt(abs(value), int(places))}"


def number(value, places=0):
    value = decimal_of(value)
    if value is None:
        return "—"
    text = _fmt(abs(value), int(places))
    return f"−{text}" if value < 0 and text.strip("0.,") else text


def percent(value, places=1):
    """Format a fraction as a percentage: 0.4567 → 45.7 %."""
    value = decimal_of(value)
    if value is None:
        return "—"
    return f"{number(value * 100, places)} %"


def duration(value) -> str:
    value = decimal_of(value)
    if value is None:
        return "—"
    seconds = int(value.to_integral_value())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def score(value):
    value = decimal_of(value)
    return "—" if value is None else number(value, 1 if value != value.to_integral_value() else 0)


def heat(value) -> str:
    """A retention share's heat-map step, "0" (under 20 %) to "5" (100 % or more); "none" for no value."""
    value = decimal_of(value)
    if value is None:
        return "none"
    return str(max(0, min(5, int(value * 5))))
