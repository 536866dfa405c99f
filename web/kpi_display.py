"""How KPIs and health scores are named and shown: labels, translated reasons for an
undefined value, the format of each KPI, the names of health bands and components.
Used by views, charts and the `kpi_tags` template library.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from metrics import catalogue
from web.formatting import decimal_of, duration, money, number, percent

# Units, direction and labels of the KPIs come from metrics.catalogue.
MONEY_KEYS = {k.key for k in catalogue.CATALOGUE if k.unit == catalogue.MONEY}
RATIO_KEYS = {k.key for k in catalogue.CATALOGUE if k.unit == catalogue.RATIO}
LOWER_IS_BETTER = {k.key for k in catalogue.CATALOGUE if k.higher_is_better is False}
KPI_LABELS = {k.key: k.label for k in catalogue.CATALOGUE}
# Why a KPI is undefined: the engine's reasons (English in the API), translated for the pages.
KPI_REASONS = {
    "no paying customers at the start of the period": _("no paying customers at the start of the period"),
    "no paying customers at the end of the period": _("no paying customers at the end of the period"),
    "no MRR at the start of the period": _("no MRR at the start of the period"),
    "the period holds no whole calendar month": _("the period holds no whole calendar month"),
    "no paying customers at the start of its months": _("no paying customers at the start of its months"),
    "no customer churned, so the lifetime is unbounded": _("no customer churned, so the lifetime is unbounded"),
    "no customer was paying at both start and end": _("no customer was paying at both start and end"),
    "no new paying customers in the period": _("no new paying customers in the period"),
    "CAC is 0": _("CAC is 0"),
    "no leads created in the period": _("no leads created in the period"),
    "no first trials started in the period": _("no first trials started in the period"),
    "no customers created in the period": _("no customers created in the period"),
    "no onboarding steps configured": _("no onboarding steps configured"),
    "no customer reached the step before": _("no customer reached the step before"),
    "no NPS responses in the period": _("no NPS responses in the period"),
    "no CSAT responses in the period": _("no CSAT responses in the period"),
    "no CES responses in the period": _("no CES responses in the period"),
    "no tickets with a known contact count resolved in the period": _("no tickets with a known contact count resolved in the period"),
    "the period has no days": _("the period has no days"),
    "no active users in the period": _("no active users in the period"),
    "no sessions started in the period": _("no sessions started in the period"),
    "no customer had an event in the period": _("no customer had an event in the period"),
    "costs are recorded for the whole company only": _("costs are recorded for the whole company only"),
    "leads belong to the whole company until they convert": _("leads belong to the whole company until they convert"),
}
KPI_REASON_PREFIXES = {"CLV is undefined: ": _("CLV is undefined: %(reason)s"), "CAC is undefined: ": _("CAC is undefined: %(reason)s")}
BAND_LABELS = {"healthy": _("Healthy"), "neutral": _("Neutral"), "at_risk": _("At risk"), None: _("No data")}
COMPONENT_LABELS = {
    "frequency": _("Frequency"),
    "breadth": _("Breadth"),
    "depth": _("Depth"),
    "sentiment": _("Sentiment"),
    "support": _("Support"),
    "growth": _("Growth"),
    "csm_rating": _("CSM rating"),
}


def format_kpi(key: str, value) -> str:
    """Return a KPI's value as the pages show it, by its unit in the catalogue; "—" for none."""
    value = decimal_of(value)
    if value is None:
        return "—"
    kpi = catalogue.BY_KEY.get(key)
    unit = kpi.unit if kpi else catalogue.NUMBER
    if unit == catalogue.MONEY:
        return money(value)
    if unit == catalogue.COUNT:
        return number(value)
    if unit == catalogue.RATIO:
        return percent(value)
    if unit == catalogue.NPS:
        return number(value, 1 if value != value.to_integral_value() else 0)
    if unit == catalogue.SECONDS:
        return duration(value)
    if unit == catalogue.MULTIPLE:
        return f"{number(value, 2)} ×"
    return number(value, kpi.decimals if kpi else 1)


def kpi_label(key):
    """Return the display name of a KPI key."""
    return catalogue.label(key)


def definition_url(key) -> str:
    """The URL of a KPI's definition (the definitions page, at its anchor)."""
    kpi = catalogue.BY_KEY.get(key)
    return reverse("web:kpi-definitions") + (f"#{kpi.anchor}" if kpi else "")


def component_label(name):
    """Return the display name of a health component."""
    return COMPONENT_LABELS.get(name, name)


def kpi_reason(reason):
    """The reason a KPI is undefined, in the user's language (unknown reasons as they are)."""
    if not reason:
        return ""
    for prefix, wording in KPI_REASON_PREFIXES.items():
        if reason.startswith(prefix):
            return wording % {"reason": kpi_reason(reason[len(prefix):])}
    return KPI_REASONS.get(reason, reason)


def band_label(band):
    """The display name of a health band key ("at_risk" → "At risk"); "—" for none."""
    if band in (None, "", "none"):
        return "—"
    return BAND_LABELS.get(band, band)
