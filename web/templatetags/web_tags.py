"""Display of KPI values: money, percentages, bands, changes, and the SVG charts."""

from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metrics.kpis import Kpi
from web import charts

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥"}
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
ROLE_LABELS = {"admin": pgettext_lazy("role", "Admin"), "manager": pgettext_lazy("role", "Manager"), "csm": _("CSM")}
# Display names of stored choices whose models keep plain English labels (the value is data).
TASK_SOURCE_LABELS = {
    "manual": _("Manual"),
    "survey": _("Survey follow-up"),
    "alert": _("Alert"),
    "playbook": _("Playbook"),
}
HEALTH_MODEL_STATUS_LABELS = {"draft": _("Draft"), "published": _("Published"), "retired": _("Retired")}
COMPONENT_LABELS = {
    "frequency": _("Frequency"),
    "breadth": _("Breadth"),
    "depth": _("Depth"),
    "sentiment": _("Sentiment"),
    "support": _("Support"),
    "growth": _("Growth"),
    "csm_rating": _("CSM rating"),
}


def _dec(value) -> Decimal | None:
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


@register.filter
def money(value, places=0):
    """Format an amount in the reporting currency with thousands separators: €12,345."""
    value = _dec(value)
    if value is None:
        return "—"
    currency = settings.CSPLATFORM_REPORTING_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{_fmt(abs(value), int(places))}"


@register.filter
def number(value, places=0):
    value = _dec(value)
    if value is None:
        return "—"
    text = _fmt(abs(value), int(places))
    return f"−{text}" if value < 0 and text.strip("0.,") else text


@register.filter
def percent(value, places=1):
    """Format a fraction as a percentage: 0.4567 → 45.7 %."""
    value = _dec(value)
    if value is None:
        return "—"
    return f"{number(value * 100, places)} %"


def duration(value) -> str:
    value = _dec(value)
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


def format_kpi(key: str, value) -> str:
    value = _dec(value)
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


@register.simple_tag
def kpi_value(key, kpi):
    return format_kpi(key, kpi)


@register.filter
def kpi_label(key):
    return KPI_LABELS.get(key, key.replace("_", " "))


@register.filter
def component_label(name):
    return COMPONENT_LABELS.get(name, name)


@register.filter
def kpi_reason(reason):
    """The reason a KPI is undefined, in the user's language (unknown reasons as they are)."""
    if not reason:
        return ""
    for prefix, wording in KPI_REASON_PREFIXES.items():
        if reason.startswith(prefix):
            return wording % {"reason": kpi_reason(reason[len(prefix):])}
    return KPI_REASONS.get(reason, reason)


@register.filter
def band_label(band):
    """The display name of a health band key ("at_risk" → "At risk"); "—" for none."""
    if band in (None, "", "none"):
        return "—"
    return BAND_LABELS.get(band, band)


@register.filter
def role_label(role):
    return ROLE_LABELS.get(role, role)


@register.filter
def task_source_label(task):
    return TASK_SOURCE_LABELS.get(task.source, task.get_source_display())


@register.filter
def health_model_status_label(model):
    return HEALTH_MODEL_STATUS_LABELS.get(model.status, model.get_status_display())


@register.simple_tag
def kpi_change(key, current, previous):
    """The change from `previous` to `current`: points for ratios, amounts otherwise; coloured."""
    now, before = _dec(current), _dec(previous)
    if now is None or before is None:
        return format_html('<span class="change muted">{}</span>', "—")
    diff = now - before
    if key in RATIO_KEYS:
        text = _("%(points)s pp") % {"points": number(abs(diff) * 100, 1)}
    elif key in MONEY_KEYS:
        text = money(abs(diff))
    else:
        text = format_kpi(key, abs(diff)) if key != "nps" else number(abs(diff), 1)
    if diff == 0:
        return format_html('<span class="change flat">±{}</span>', text)
    good = (diff > 0) != (key in LOWER_IS_BETTER)
    arrow, sign = ("▲", "+") if diff > 0 else ("▼", "−")
    return format_html(
        '<span class="change {}"><span aria-hidden="true">{} </span>{}{}</span>',
        "good" if good else "bad", arrow, sign, text,
    )  # fmt: skip


@register.simple_tag
def money_change(now, before):
    now, before = _dec(now) or Decimal(0), _dec(before) or Decimal(0)
    diff = now - before
    if diff == 0:
        return format_html('<span class="change flat">{}</span>', "±0")
    cls = "good" if diff > 0 else "bad"
    sign = "+" if diff > 0 else "−"
    return format_html('<span class="change {}">{}{}</span>', cls, sign, money(abs(diff)))


@register.inclusion_tag("_components/band.html")
def band(band, score=None):
    return {"band": band or "none", "label": BAND_LABELS.get(band, band), "score": score}


@register.filter
def score(value):
    value = _dec(value)
    return "—" if value is None else number(value, 1 if value != value.to_integral_value() else 0)


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """Return the current query string with `changes` applied (None or "" removes a key)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


@register.simple_tag
def report_query(period, scope, **extra):
    """Query string naming a report period and scope (for drill-down and export links)."""
    params = {"start": period.start.isoformat(), "end": period.end.isoformat(), "scope": scope.label}
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return "?" + urlencode(params)


def _fmt_for(key):
    return lambda v: format_kpi(key, v)


@register.simple_tag
def line_chart(title, labels, *series_specs, key=None):
    """series_specs: alternating (name, values) pairs."""
    series = [
        charts.Series(str(series_specs[i]), list(series_specs[i + 1]), f"s{i // 2 + 1}")
        for i in range(0, len(series_specs), 2)
    ]
    return charts.line_chart(str(title), list(labels), series, fmt=_fmt_for(key) if key else None)


@register.simple_tag
def stacked_bar_chart(title, labels, up, down, key="mrr"):
    """`up` and `down`: lists of (name, values, css class)."""
    return charts.stacked_bar_chart(
        str(title),
        list(labels),
        [charts.Series(str(n), list(v), css) for n, v, css in up],
        [charts.Series(str(n), list(v), css) for n, v, css in down],
        fmt=_fmt_for(key),
    )


@register.filter
def get(mapping, key):
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def component_why(name, component):
    """Say in words where a health component's score comes from."""
    i = component.inputs
    if name == "frequency":
        if not i.get("active_users"):
            return _("No active users in the last 30 days.")
        avg = Decimal(i["active_user_days"]) / Decimal(i["active_users"])
        return _("Active users were active on %(avg)s days on average (target %(target)s).") % {
            "avg": number(avg, 1), "target": i["target_days"]}
    if name == "breadth":
        return _("%(active)s of %(known)s known users active.") % {"active": i["active_users"], "known": i["known_users"]}
    if name == "depth":
        return _("%(used)s of %(total)s key features used.") % {"used": i["key_features_used"], "total": i["key_features"]}
    if name == "sentiment":
        scores = i.get("latest_nps_per_contact") or []
        if not scores:
            return _("No NPS answers in the last 180 days.")
        return _("Latest NPS per contact: %(scores)s.") % {"scores": ", ".join(str(s) for s in scores)}
    if name == "support":
        if not i.get("resolved_with_count"):
            return _("No tickets resolved in the last 30 days.")
        return _("%(first)s of %(total)s resolved tickets solved at first contact.") % {
            "first": i["first_contact"], "total": i["resolved_with_count"]}
    if name == "growth":
        if not Decimal(i.get("mrr_90_days_before") or 0):
            return _("No MRR 90 days ago to compare with.")
        return _("MRR %(now)s now, %(before)s 90 days ago.") % {
            "now": money(i["mrr"]), "before": money(i["mrr_90_days_before"])}
    return ""


@register.filter
def add_days(day, days):
    import datetime

    return day + datetime.timedelta(days=int(days)) if day else day


@register.simple_tag
def scope_label(scope):
    if scope.customer_id is not None:
        return _("one customer")
    if scope.segment is not None:
        return _("segment %(name)s") % {"name": scope.segment}
    if scope.csm is not None:
        return _("portfolio of %(name)s") % {"name": scope.csm}
    return _("whole company")


# --- Drill-down tables ------------------------------------------------------------------

MONEY_COLUMNS = {"mrr", "mrr_opening", "movement_amount", "amount"}
NUMERIC_COLUMNS = MONEY_COLUMNS | {"score", "contacts_count", "events", "active_days", "customers", "duration_seconds"}
COLUMN_LABELS = {
    "customer": _("Customer"),
    "customer__name": _("Customer"),
    "name": _("Customer"),
    "mrr_opening": _("MRR at start"),
    "mrr": _("MRR at end"),
    "paying_at_start": _("Paying at start"),
    "paying_at_end": _("Paying at end"),
    "movement": _("Movement"),
    "movement_amount": _("Amount"),
    "first": _("First paid"),
    "contact__external_id": _("User"),
    "duration_seconds": _("Duration"),
    "responded_at": _("Responded"),
    "opened_at": _("Opened"),
    "resolved_at": _("Resolved"),
    "contacts_count": _("Contacts"),
    "external_id": _("ID"),
    "created_at": _("Created"),
    "converted_at": _("Converted"),
    "first_trial": _("First trial"),
    "created_on": _("Created"),
    "event_type": _("Feature"),
    "active_days": _("Active days"),
    "cost_month": _("Cost month"),
    "category": _("Cost category"),
}


@register.filter
def column_label(column):
    return COLUMN_LABELS.get(column, column.replace("__", " ").replace("_", " ").capitalize())


@register.filter
def is_numeric_column(column):
    return column in NUMERIC_COLUMNS


@register.simple_tag
def cell(row, column):
    import datetime

    from django.urls import reverse

    value = row.get(column)
    css = ' class="num"' if column in NUMERIC_COLUMNS else ""
    if value is None or value == "":
        return format_html("<td{}><span class=\"muted\">—</span></td>", mark_safe(css))
    if column in ("customer", "customer__name", "name") and (row.get("customer_id") or row.get("id")):
        pk = row.get("customer_id") or row.get("id")
        return format_html('<td><a href="{}">{}</a></td>', reverse("web:account", args=[pk]), value)
    if column in MONEY_COLUMNS:
        text = money(value, 2 if _dec(value) != _dec(value).to_integral_value() else 0)
    elif column == "duration_seconds":
        text = duration(value)
    elif isinstance(value, bool):
        text = _("yes") if value else _("no")
    elif isinstance(value, datetime.datetime):
        text = formats.date_format(value, "j M Y, H:i")
    elif isinstance(value, datetime.date):
        text = formats.date_format(value, "j M Y")
    elif isinstance(value, (int, Decimal)):
        text = number(value)
    else:
        text = value
    return format_html("<td{}>{}</td>", mark_safe(css), text)


MOODS = {"high": "good", "mid": "mid", "low": "bad"}


@register.filter
def mood(response):
    """good, mid or bad for a survey answer: its band (promoter, satisfied, easy … detractor)."""
    return MOODS[response.band]
