"""Inline SVG charts of the health pages: the ROC curve and bars per band (CSS classes, no inline styles)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

SIZE, PAD = 300, 36
BAR_W, BAR_H, BAR_LEFT = 420, 150, 90


def roc_chart(points: list, auc: float | None) -> str:
    """The ROC curve (false positive rate → true positive rate) against the diagonal of a random score."""
    if not points:
        return format_html('<p class="muted chart-empty">{}</p>', _("No churn in the backtest: no curve."))
    span = SIZE - 2 * PAD

    def xy(fpr, tpr):
        return f"{PAD + span * fpr:.1f},{SIZE - PAD - span * tpr:.1f}"

    title = _("ROC curve, AUC %(auc)s") % {"auc": f"{auc:.3f}"} if auc is not None else _("ROC curve")
    ticks = format_html_join(
        "",
        '<line class="grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/><text class="tick" x="{3}" y="{4}" text-anchor="end">{5}</text>'
        '<text class="tick" x="{6}" y="{7}" text-anchor="middle">{5}</text>',
        ((PAD, SIZE - PAD, f"{SIZE - PAD - span * t:.1f}", PAD - 5, f"{SIZE - PAD - span * t + 4:.1f}", f"{t:g}",
          f"{PAD + span * t:.1f}", SIZE - PAD + 15) for t in (0, 0.25, 0.5, 0.75, 1)),  # fmt: skip
    )
    body = format_html(
        '{}<polyline class="line s2" points="{} {}"/><polyline class="line s1" points="{}"/>'
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="tick" x="10" y="{}" text-anchor="middle" transform="rotate(-90 10 {})">{}</text>',
        ticks, xy(0, 0), xy(1, 1), " ".join(xy(f, t) for f, t in points), SIZE / 2, SIZE - 4, _("false positive rate"),
        SIZE / 2, SIZE / 2, _("true positive rate"),
    )  # fmt: skip
    legend = format_html(
        '<ul class="legend"><li><span class="swatch s1" aria-hidden="true"></span>{}</li>'
        '<li><span class="swatch s2" aria-hidden="true"></span>{}</li></ul>',
        _("health model"), _("random guess (AUC 0.5)"),
    )
    return format_html(
        '<svg class="chart chart-square" viewBox="0 0 {0} {0}" role="img" aria-label="{1}"><title>{1}</title>{2}</svg>{3}',
        SIZE, title, body, legend,
    )  # fmt: skip


def band_bars(rows: list[tuple[str, float | None, str]], title: str) -> str:
    """Horizontal bars of rates 0–1, one per (label, rate, css class)."""
    step = BAR_H / max(1, len(rows))
    high = max([r for _l, r, _c in rows if r is not None] + [0.0001])
    parts = []
    for i, (label, value, css) in enumerate(rows):
        y = i * step + 6
        width = (BAR_W - BAR_LEFT - 60) * (value or 0) / high
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text><rect class="bar {}" x="{}" y="{}" width="{}" '
                'height="{}"><title>{}: {}</title></rect><text class="tick" x="{}" y="{}">{}</text>',
                BAR_LEFT - 8, f"{y + step / 2:.1f}", label, css, BAR_LEFT, f"{y:.1f}", f"{width:.1f}", f"{step - 12:.1f}",
                label, _pct(value), f"{BAR_LEFT + width + 6:.1f}", f"{y + step / 2:.1f}", _pct(value),
            )  # fmt: skip
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}</svg>',
        BAR_W, BAR_H + 6, title, title, mark_safe("".join(parts)),
    )  # fmt: skip


def _pct(value):
    return "—" if value is None else f"{100 * value:.1f} %"
