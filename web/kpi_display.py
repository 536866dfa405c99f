"""How KPIs and health scores are named and shown: labels, translated reasons for an
undefined value, the format of each KPI, the names of health bands and components.
Used by views, charts and the `kpi_tags` template library.
"""

from django.utils.translation import gettext_lazy as _

from web.formatting import decimal_of, duration, money, number, percent

MONEY_KEYS = {
    "mrr", "mrr_opening", "mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn",
    "arpu", "clv", "customer_retention_cost", "cac",
}  # fmt: skip
COUNT_KEYS = {"customers", "mau"}
RATIO_KEYS = {
    "logo_churn_rate", "customer_retention_rate", "net_revenue_retention", "gross_revenue_retention",
    "revenue_churn_rate", "conversion_rate", "trial_conversion_rate", "onboarding_completion_rate",
    "onboarding_drop_off", "csat", "ces", "first_contact_resolution_rate", "dau_mau", "feature_adoption",
}  # fmt: skip
# KPIs where a fall is good news: their change is coloured the other way round.
LOWER_IS_BETTER = {"logo_churn_rate", "revenue_churn_rate", "mrr_contraction", "mrr_churn", "cac",
                   "customer_retention_cost", "onboarding_drop_off"}  # fmt: skip

KPI_LABELS = {
    "customers": _("Paying customers"),
    "logo_churn_rate": _("Logo churn"),
    "customer_retention_rate": _("Customer retention"),
    "mrr": _("MRR"),
    "mrr_opening": _("Opening MRR"),
    "mrr_new": _("New MRR"),
    "mrr_reactivation": _("Reactivation MRR"),
    "mrr_expansion": _("Expansion MRR"),
    "mrr_contraction": _("Contraction MRR"),
    "mrr_churn": _("Churned MRR"),
    "arpu": _("ARPU"),
    "net_revenue_retention": _("Net revenue retention"),
    "gross_revenue_retention": _("Gross revenue retention"),
    "revenue_churn_rate": _("Revenue churn"),
    "clv": _("Customer lifetime value"),
    "customer_retention_cost": _("Retention cost per customer"),
    "cac": _("Customer acquisition cost"),
    "ltv_to_cac": _("LTV : CAC"),
    "conversion_rate": _("Lead conversion"),
    "trial_conversion_rate": _("Trial conversion"),
    "onboarding_completion_rate": _("Onboarding completion"),
    "onboarding_drop_off": _("Onboarding drop-off"),
    "nps": _("NPS"),
    "csat": _("CSAT"),
    "ces": _("CES (easy)"),
    "ces_average": _("CES average"),
    "first_contact_resolution_rate": _("First contact resolution"),
    "mau": _("Active users"),
    "dau_average": _("Daily active users (avg)"),
    "dau_mau": _("DAU / MAU"),
    "average_session_duration": _("Avg session duration"),
    "events_per_active_user": _("Events per active user"),
    "feature_adoption": _("Feature adoption (mean)"),
}
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
    """Return a KPI's value as the pages show it: money, count, percentage, duration …; "—" for none."""
    value = decimal_of(value)
    if value is None:
        return "—"
    if key in MONEY_KEYS:
        return money(value)
    if key in COUNT_KEYS:
        return number(value)
    if key in RATIO_KEYS:
        return percent(value)
    if key == "nps":
        return number(value, 1 if value != value.to_integral_value() else 0)
    if key == "average_session_duration":
        return duration(value)
    if key == "ltv_to_cac":
        return f"{number(value, 2)} ×"
    return number(value, 2 if key in ("ces_average",) else 1)


def kpi_label(key):
    """Return the display name of a KPI key."""
    return KPI_LABELS.get(key, key.replace("_", " "))


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
