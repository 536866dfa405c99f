"""Server-rendered SVG charts of every page: no JavaScript, no inline styles (CSP), colours from CSS classes.

Line and stacked-bar charts over months (reports, account page, alert dry runs), and the
health model pages' ROC curve and bars per band. The report's charts come with the same
numbers as a table in the page, so screen readers and people without a mouse get the data.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 34


@dataclass
class Series:
    name: str
    values: list  # Decimal | None per x label
    css: str = "s1"


def _nice_step(span: float) -> float:
    """A round tick step giving about four ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float) -> list[float]:
    if low == high:
        low, high = (low - 1, high + 1) if low else (0, 1)
    step = _nice_step(high - low)
    start = (low // step) * step
    ticks, value = [], start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
        if len(ticks) > 12:
            break
    return ticks


def _label(value: float, fmt) -> str:
    return fmt(Decimal(str(value))) if fmt else f"{value:g}"


def _frame(x_labels, ticks, fmt, y_of):
    plot_w = WIDTH - LEFT - RIGHT
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT, WIDTH - RIGHT, f"{y:.1f}", f"{y:.1f}", LEFT - 6, f"{y + 4:.1f}", _label(tick, fmt),
            )  # fmt: skip
        )
    n = len(x_labels)
    every = max(1, (n + 5) // 6)
    for i, label in enumerate(x_labels):
        if (i % every or n - 1 - i < every) and i != n - 1:
            continue  # every few months, and always the last one without crowding it
        x = LEFT + plot_w * (i + 0.5) / n
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                f"{x:.1f}", HEIGHT - BOTTOM + 18, label,
            )  # fmt: skip
        )
    return mark_safe("".join(parts))


def _svg(title: str, body, legend) -> str:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title>{}</svg>{}",
        WIDTH, HEIGHT, title, title, body, legend,
    )  # fmt: skip


def _legend(series: list[Series]):
    if len(series) < 2:
        return ""
    items = format_html_join(
        "", '<li><span class="swatch {}" aria-hidden="true"></span>{}</li>', ((s.css, s.name) for s in series)
    )
    return format_html('<ul class="legend">{}</ul>', items)


def line_chart(title: str, x_labels: list[str], series: list[Series], fmt=None, zero_based: bool = True) -> str:
    """Lines with dots; gaps where a value is None (undefined, not zero).

    Zero-based by default, so a small change does not look like a collapse (negative values, NPS,
    extend it); `zero_based=False` zooms to the values for figures that live near 100 % (retention)."""
    values = [float(v) for s in series for v in s.values if v is not None]
    if not values:
        return format_html('<p class="muted chart-empty">{}</p>', _("No data for this chart yet."))
    if zero_based:
        ticks = _ticks(min(min(values), 0.0), max(max(values), 0.0))
    else:
        spread = (max(values) - min(values)) or abs(max(values)) * 0.05 or 1.0
        ticks = _ticks(min(values) - spread * 0.15, max(values) + spread * 0.15)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(x_labels)

    def y_of(v):
        return TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    def x_of(i):
        return LEFT + plot_w * (i + 0.5) / n

    parts = [_frame(x_labels, ticks, fmt, y_of)]
    for s in series:
        segment = []
        for i, v in enumerate(s.values + [None]):
            if v is None:
                if len(segment) > 1:
                    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                    parts.append(format_html('<polyline class="line {}" points="{}"/>', s.css, points))
                segment = []
                continue
            segment.append((x_of(i), y_of(float(v))))
        for i, v in enumerate(s.values):
            if v is not None:
                parts.append(
                    format_html(
                        '<circle class="dot {}" cx="{}" cy="{}" r="3"><title>{} {}: {}</title></circle>',
                        s.css, f"{x_of(i):.1f}", f"{y_of(float(v)):.1f}", s.name, x_labels[i], _label(float(v), fmt),
                    )  # fmt: skip
                )
    return _svg(title, mark_safe("".join(parts)), _legend(series))


def stacked_bar_chart(title: str, x_labels: list[str], up: list[Series], down: list[Series], fmt=None) -> str:
    """Bars stacked above zero (`up`) and below it (`down`), e.g. MRR gained and lost."""
    tops = [sum(float(s.values[i] or 0) for s in up) for i in range(len(x_labels))]
    bottoms = [-sum(float(s.values[i] or 0) for s in down) for i in range(len(x_labels))]
    if not any(tops) and not any(bottoms):
        return format_html('<p class="muted chart-empty">{}</p>', _("No movements in these months."))
    ticks = _ticks(min(bottoms + [0.0]), max(tops + [0.0]))
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(x_labels)
    bar_w = plot_w / n * 0.6

    def y_of(v):
        return TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = [_frame(x_labels, ticks, fmt, y_of)]
    for i, label in enumerate(x_labels):
        x = LEFT + plot_w * (i + 0.5) / n - bar_w / 2
        for group, sign in ((up, 1), (down, -1)):
            base = 0.0
            for s in group:
                v = float(s.values[i] or 0)
                if not v:
                    continue
                y0, y1 = y_of(base), y_of(base + sign * v)
                parts.append(
                    format_html(
                        '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>',
                        s.css, f"{x:.1f}", f"{min(y0, y1):.1f}", f"{bar_w:.1f}", f"{abs(y1 - y0):.1f}",
                        s.name, label, _label(v, fmt),
                    )  # fmt: skip
                )
                base += sign * v
    zero = y_of(0)
    parts.append(format_html('<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>', LEFT, WIDTH - RIGHT, zero, zero))
    return _svg(title, mark_safe("".join(parts)), _legend(up + down))


# --- The team report's charts -------------------------------------------------------------

TREND_CHARTS = (
    # (id, title, [(key, css)], formatting key, zero-based axis); MRR movements are a stacked bar of their own.
    # Churn (a few %) and retention (near 100 %) each get their own axis, zoomed to their values, so
    # neither is a flat line; gross revenue retention is dashed, as it lies on net retention without expansion.
    ("logo-churn", gettext_lazy("Logo churn"), [("logo_churn_rate", "s5")], "logo_churn_rate", True),
    ("customer-retention", gettext_lazy("Customer retention"), [("customer_retention_rate", "s1")],
     "customer_retention_rate", False),
    ("revenue-retention", gettext_lazy("Net and gross revenue retention"),
     [("net_revenue_retention", "s1"), ("gross_revenue_retention", "s2 dashed")], "net_revenue_retention", False),
    ("nps", gettext_lazy("NPS"), [("nps", "s1")], "nps", True),
    ("csat-ces", gettext_lazy("CSAT and CES (share of good answers)"), [("csat", "s2"), ("ces", "s3")], "csat", True),
    ("dau-mau", gettext_lazy("DAU / MAU (stickiness)"), [("dau_mau", "s1")], "dau_mau", True),
)  # fmt: skip
MOVEMENTS_UP = (("mrr_new", "s1"), ("mrr_reactivation", "s2"), ("mrr_expansion", "s3"))
MOVEMENTS_DOWN = (("mrr_contraction", "s4"), ("mrr_churn", "s5"))


def report_charts(trends, label_of, format_kpi) -> list[dict]:
    """Chart specs for the report: the SVG plus the same figures as table rows.

    `trends` is [(Period, {key: Kpi})]; `label_of(key)` names a KPI; `format_kpi(key, value)`
    formats one figure.
    """
    if not trends:
        return []
    labels = [date_format(m.start, "M y") for m, _k in trends]

    def values(key):
        return [k[key].value for _, k in trends]

    def table(keys):
        return [(m.start, [format_kpi(key, k[key]) for key in keys]) for m, k in trends]

    movement_keys = [k for k, _ in MOVEMENTS_UP + MOVEMENTS_DOWN]
    specs = [
        {
            "id": "mrr-movements",
            "title": _("MRR movements"),
            "svg": stacked_bar_chart(
                _("MRR movements per month: gains above zero, losses below"),
                labels,
                [Series(str(label_of(k)), values(k), css) for k, css in MOVEMENTS_UP],
                [Series(str(label_of(k)), values(k), css) for k, css in MOVEMENTS_DOWN],
                fmt=lambda v: format_kpi("mrr", v),
            ),
            "columns": [label_of(k) for k in movement_keys],
            "rows": table(movement_keys),
        }
    ]
    for chart_id, title, keys, fmt_key, zero_based in TREND_CHARTS:
        specs.append(
            {
                "id": chart_id,
                "title": title,
                "svg": line_chart(
                    str(title),
                    labels,
                    [Series(str(label_of(k)), values(k), css) for k, css in keys],
                    fmt=lambda v, fmt_key=fmt_key: format_kpi(fmt_key, v),
                    zero_based=zero_based,
                ),
                "columns": [label_of(k) for k, _ in keys],
                "rows": table([k for k, _ in keys]),
            }
        )
    return specs


# --- The health model pages (backtest): ROC curve and bars per band -----------------------

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
