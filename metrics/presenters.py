"""Shape KPI results for JSON: numbers rounded to 6 places, `null` with a reason."""

from decimal import Decimal

from metrics.kpis import Kpi, round_value

AMOUNT_KEYS = {
    "customers", "mrr", "mrr_opening", "mrr_new", "mrr_reactivation", "mrr_expansion",
    "mrr_contraction", "mrr_churn", "mau",
}  # fmt: skip
# The JSON shape of each KPI (metrics.serializers has one schema component per shape):
# amounts carry only their value, NPS its answer counts, every other KPI is a ratio with its
# numerator and denominator, and some ratios add a breakdown.
SHAPES = {
    **{key: "amount" for key in AMOUNT_KEYS},
    "nps": "nps",
    "clv": "clv",
    "feature_adoption": "feature_adoption",
    "onboarding_drop_off": "onboarding_drop_off",
}


def shape_of(key: str) -> str:
    return SHAPES.get(key, "ratio")


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
