"""Shape KPI results for JSON: numbers rounded to 6 places, `null` with a reason."""

from decimal import Decimal

from metrics import catalogue
from metrics.kpis import Kpi, round_value


def number(value: Decimal | None):
    """Return a JSON number: an int when whole, else a float of the 6-place rounding."""
    value = round_value(value)
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def kpi_json(key: str, kpi: Kpi) -> dict:
    body = {"value": number(kpi.value)}
    kpi_def = catalogue.BY_KEY.get(key)
    if kpi_def is None or not kpi_def.is_plain_figure:
        body["numerator"] = number(kpi.numerator)
        body["denominator"] = number(kpi.denominator)
    if kpi.value is None:
        body["reason"] = kpi.reason
    for name, extra in kpi.extra.items():
        if isinstance(extra, dict):
            body[name] = {k: kpi_json(k, v) if isinstance(v, Kpi) else v for k, v in extra.items()}
        elif isinstance(extra, Decimal):
            body[name] = number(extra)
        else:
            body[name] = extra
    return body


def kpis_json(results: dict[str, Kpi]) -> dict:
    return {key: kpi_json(key, kpi) for key, kpi in results.items()}
