"""Display of churn probabilities: percentages and a risk level for the pill colour."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from churn import wording

register = template.Library()

# (lowest probability, level, label, css class of the existing band pills)
LEVELS = (
    (0.25, "high", _("high"), "band-at_risk"),
    (0.10, "elevated", _("elevated"), "band-neutral"),
    (0.0, "low", _("low"), "band-healthy"),
)


@register.filter
def percent(value, places=0):
    """A probability 0–1 as a percentage: 0.342 → "34 %"."""
    return wording.percent(value, int(places))


@register.simple_tag
def risk_pill(probability, value=True, level=True):
    """A pill coloured by the risk level (low < 10 % ≤ elevated < 25 % ≤ high), with the level and/or the probability."""
    if probability is None:
        return format_html('<span class="pill band-none">{}</span>', _("no risk score"))
    lowest, name, label, css = next(entry for entry in LEVELS if float(probability) >= entry[0])
    shown = " ".join(str(part) for part, wanted in ((label, level), (wording.percent(probability), value)) if wanted)
    hidden = format_html('<span class="visually-hidden">{}</span>', label) if not level else ""
    return format_html(
        '<span class="pill {} risk-{}" title="{}">{}{}</span>', css, name, _("Churn risk: %(level)s") % {"level": label},
        shown, hidden,
    )  # fmt: skip


STATUS_LABELS = {"draft": _("Draft"), "published": _("Published"), "retired": _("Retired")}


@register.filter
def status_label(model):
    return STATUS_LABELS.get(model.status, model.status)


@register.filter
def inside_count(deciles):
    """How many deciles are calibrated: "9 of 10"."""
    return _("%(inside)s of %(total)s") % {"inside": sum(1 for d in deciles if d["inside"]), "total": len(deciles)}
