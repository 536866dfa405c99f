"""Template tags of KPI display: values, labels, reasons, changes, health bands and
components, scopes. `{% load kpi_tags %}`; the logic lives in `web.kpi_display`.
"""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from web import kpi_display
from web.formatting import decimal_of, money, number
from web.kpi_display import BAND_LABELS, LOWER_IS_BETTER, MONEY_KEYS, RATIO_KEYS, format_kpi

register = template.Library()
register.filter(kpi_display.kpi_label)
register.filter(kpi_display.kpi_reason)
register.filter(kpi_display.band_label)
register.filter(kpi_display.component_label)


@register.simple_tag
def kpi_definition_url(key):
    """The link to a KPI's definition on the definitions page."""
    return kpi_display.definition_url(key)


@register.simple_tag
def kpi_value(key, kpi):
    return format_kpi(key, kpi)


@register.simple_tag
def kpi_change(key, current, previous):
    """The change from `previous` to `current`: points for ratios, amounts otherwise; coloured."""
    now, before = decimal_of(current), decimal_of(previous)
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
    now, before = decimal_of(now) or Decimal(0), decimal_of(before) or Decimal(0)
    diff = now - before
    if diff == 0:
        return format_html('<span class="change flat">{}</span>', "±0")
    cls = "good" if diff > 0 else "bad"
    sign = "+" if diff > 0 else "−"
    return format_html('<span class="change {}">{}{}</span>', cls, sign, money(abs(diff)))


@register.inclusion_tag("_components/band.html")
def band(band, score=None):
    return {"band": band or "none", "label": BAND_LABELS.get(band, band), "score": score}


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


@register.simple_tag
def scope_label(scope):
    if scope.customer_id is not None:
        return _("one customer")
    if scope.segment is not None:
        return _("segment %(name)s") % {"name": scope.segment}
    if scope.csm is not None:
        return _("portfolio of %(name)s") % {"name": scope.csm}
    return _("whole company")
