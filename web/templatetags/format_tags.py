"""Template filters and tags of formatting: numbers, labels of stored choices, query strings,
drill-down table cells, the mood of a survey answer. `{% load format_tags %}`.
"""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from web import formatting
from web.formatting import decimal_of, duration, money, number

register = template.Library()
register.filter(formatting.money)
register.filter(formatting.number)
register.filter(formatting.percent)
register.filter(formatting.score)
register.filter(formatting.heat)

ROLE_LABELS = {"admin": pgettext_lazy("role", "Admin"), "manager": pgettext_lazy("role", "Manager"), "csm": _("CSM")}
# Display names of stored choices whose models keep plain English labels (the value is data).
TASK_SOURCE_LABELS = {
    "manual": _("Manual"),
    "survey": _("Survey follow-up"),
    "alert": _("Alert"),
    "playbook": _("Playbook"),
}
HEALTH_MODEL_STATUS_LABELS = {"draft": _("Draft"), "published": _("Published"), "retired": _("Retired")}


@register.filter
def role_label(role):
    return ROLE_LABELS.get(role, role)


@register.filter
def task_source_label(task):
    return TASK_SOURCE_LABELS.get(task.source, task.get_source_display())


@register.filter
def health_model_status_label(model):
    return HEALTH_MODEL_STATUS_LABELS.get(model.status, model.get_status_display())


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


@register.filter
def get(mapping, key):
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def add_days(day, days):
    return day + datetime.timedelta(days=int(days)) if day else day


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
    value = row.get(column)
    css = ' class="num"' if column in NUMERIC_COLUMNS else ""
    if value is None or value == "":
        return format_html("<td{}><span class=\"muted\">—</span></td>", mark_safe(css))
    if column in ("customer", "customer__name", "name") and (row.get("customer_id") or row.get("id")):
        pk = row.get("customer_id") or row.get("id")
        return format_html('<td><a href="{}">{}</a></td>', reverse("web:account", args=[pk]), value)
    if column in MONEY_COLUMNS:
        text = money(value, 2 if decimal_of(value) != decimal_of(value).to_integral_value() else 0)
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


@register.filter
def reason_label(reason):
    """A churn reason in the page's language."""
    return reason.label_for(translation.get_language()) if reason else ""
