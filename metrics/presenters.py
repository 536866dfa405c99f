"""Shape KPI results for JSON: numbers rounded to 6 places, `null` with a reason."""

from decimal import Decimal

from metrics import catalogue
from metrics.kpis import Kpi, round_value

def shape_of(key: str) -> str:
    """The JSON shape of a KPI (metrics.catalogue); a key outside the catalogue is a ratio."""
    kpi_def = catalogue.BY_KEY.get(key)
    return kpi_def.shape if kpi_def else "ratio"


def number(value: Decimal | None):
    """Return a JSON number: an int when whole, else a float of the 6-place rounding."""
    value = round_value(value)
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def kpi_json(key: str, kpi: Kpi, shape: str | None = None) -> dict:
    body = {"value": number(kpi.value)}
    if (shape or shape_of(key)) not in ("amount", "nps"):
        body["numerator"] = number(kpi.numerator)
        body["denominator"] = number(kpi.denominator)
    if kpi.value is None:
        body["reason"] = kpi.reason
    for name, extra in kpi.extra.items():
        if isinstance(extra, dict):
            # a breakdown by feature or step: ratios, whatever the feature or step is called
            body[name] = {k: kpi_json(k, v, "ratio") if isinstance(v, Kpi) else v for k, v in extra.items()}
        elif isinstance(extra, Decimal):
            body[name] = number(extra)
        else:
            body[name] = extra
    return body


def kpis_json(results: dict[str, Kpi]) -> dict:
    return {key: kpi_json(key, kpi) for key, kpi in results.items()}
