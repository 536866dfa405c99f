"""Template tags of the report's SVG charts (`web.charts`). `{% load chart_tags %}`."""

from django import template

from web import charts
from web.kpi_display import format_kpi

register = template.Library()


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
