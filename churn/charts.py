"""Inline SVG charts of the churn model card: ROC curves and calibration (CSS classes, no inline styles)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

SIZE, PAD = 320, 46
TICKS = (0, 0.25, 0.5, 0.75, 1)


def _frame(span_of, ticks, x_title, y_title) -> str:
    span = SIZE - 2 * PAD
    grid = format_html_join(
        "",
        '<line class="grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/><text class="tick" x="{3}" y="{4}" text-anchor="end">{5}</text>'
        '<text class="tick" x="{6}" y="{7}" text-anchor="middle">{5}</text>',
        ((PAD, SIZE - PAD, f"{SIZE - PAD - span * span_of(t):.1f}", PAD - 5, f"{SIZE - PAD - span * span_of(t) + 4:.1f}",
          label, f"{PAD + span * span_of(t):.1f}", SIZE - PAD + 15) for t, label in ticks),  # fmt: skip
    )
    return format_html(
        '{}<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="tick" x="10" y="{}" text-anchor="middle" transform="rotate(-90 10 {})">{}</text>',
        grid, SIZE / 2, SIZE - 4, x_title, SIZE / 2, SIZE / 2, y_title,
    )  # fmt: skip


def _svg(title, body, legend) -> str:
    return format_html(
        '<svg class="chart chart-square" viewBox="0 0 {0} {0}" role="img" aria-label="{1}"><title>{1}</title>{2}</svg>{3}',
        SIZE, title, body, legend,
    )  # fmt: skip


def _legend(items) -> str:
    return format_html(
        '<ul class="legend">{}</ul>',
        format_html_join("", '<li><span class="swatch {}" aria-hidden="true"></span>{}</li>', items),
    )


def _xy(x: float, y: float, top: float = 1.0) -> str:
    span = SIZE - 2 * PAD
    return f"{PAD + span * x / top:.1f},{SIZE - PAD - span * y / top:.1f}"


def roc_chart(model_points: list, health_points: list) -> str:
    """Both ROC curves (false positive rate → true positive rate) against a random score's diagonal."""
    if not model_points:
        return format_html('<p class="muted chart-empty">{}</p>', _("No churn on the held-out dates: no curve."))
    body = format_html(
        '{}<polyline class="line s5" points="{} {}"/><polyline class="line s4" points="{}"/><polyline class="line s1" points="{}"/>',
        _frame(lambda t: t, [(t, f"{t:g}") for t in TICKS], _("false positive rate"), _("true positive rate")),
        _xy(0, 0), _xy(1, 1), " ".join(_xy(f, t) for f, t in health_points), " ".join(_xy(f, t) for f, t in model_points),
    )  # fmt: skip
    legend = _legend([("s1", _("churn model")), ("s4", _("health score")), ("s5", _("random guess (AUC 0.5)"))])
    return _svg(_("ROC curves on the held-out dates"), body, legend)


def _top(deciles) -> float:
    """A round upper end of the axes that holds every prediction and observed rate (bands may be cut)."""
    high = max([max(d["predicted"], d["observed"]) for d in deciles] + [0.05])
    for top in (0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0):
        if high <= top:
            return top
    return 1.0


def calibration_chart(model_deciles: list, health_deciles: list) -> str:
    """Observed churn rate against mean predicted probability per decile, each with its 95 % band."""
    if not model_deciles:
        return format_html('<p class="muted chart-empty">{}</p>', _("No held-out dates: no calibration."))
    top = _top(model_deciles + health_deciles)
    ticks = [(top * t, f"{100 * top * t:g} %") for t in TICKS]
    parts = [format_html('<polyline class="line s5" points="{} {}"/>', _xy(0, 0, top), _xy(top, top, top))]
    for deciles, css, nudge in ((health_deciles, "s4", 0.004), (model_deciles, "s1", 0.0)):
        for d in deciles:
            x = min(top, d["predicted"]) + nudge * top  # health's marks sit beside the model's
            low, high = (min(top, v) for v in d["band"])
            parts.append(format_html(
                '<line class="{0}" x1="{1}" x2="{1}" y1="{2}" y2="{3}"/><circle class="dot {0}" cx="{1}" cy="{4}" r="4">'
                "<title>{5}</title></circle>",
                css, _xy(x, 0, top).split(",")[0], _xy(0, low, top).split(",")[1], _xy(0, high, top).split(",")[1],
                _xy(0, min(top, d["observed"]), top).split(",")[1],
                _("decile %(n)s: predicted %(p).1f %%, observed %(o).1f %%") % {
                    "n": d["decile"], "p": 100 * d["predicted"], "o": 100 * d["observed"]},
            ))  # fmt: skip
    body = format_html(
        "{}{}", _frame(lambda t: t / top, ticks, _("predicted probability"), _("observed churn rate")), mark_safe("".join(parts))
    )
    legend = _legend([("s1", _("churn model")), ("s4", _("health score as a probability")),
                      ("s5", _("perfect calibration"))])  # fmt: skip
    return _svg(_("Calibration by decile on the held-out dates"), body, legend)
