"""How an alert's reason reads: one sentence per rule kind from the details it fired with."""

from django.utils.translation import gettext as _

from web.kpi_display import band_label


def alert_reason(alert) -> str:
    """The reason of `alert` in words, in the active language."""
    d, kind = alert.details or {}, alert.rule.kind
    try:
        if kind == "band_drop":
            return _("Health fell from %(old)s to %(new)s (score %(score)s).") % {
                "old": band_label(d.get("from_band")), "new": band_label(d.get("to_band")), "score": _int(d.get("score"))}
        if kind == "score_drop":
            return _("Health score fell by %(drop)s points in a week, to %(score)s.") % {
                "drop": _int(d.get("drop")), "score": _int(d.get("score"))}
        if kind == "usage_drop":
            return _("Usage fell by %(pct)s %% week over week (%(now)s active user-days, %(before)s the week before).") % {
                "pct": d.get("drop_pct"), "now": d.get("user_days"), "before": d.get("user_days_week_before")}
        if kind == "renewal":
            return _("Renews on %(day)s.") % {"day": d.get("renewal_on")}
        if kind == "detractor":
            text = _("Answered NPS with %(score)s.") % {"score": d.get("score")}
            return f"{text} “{d['comment']}”" if d.get("comment") else text
        if kind == "ticket_open":
            return _("%(n)s ticket(s) open, the oldest since %(day)s.") % {"n": d.get("open_tickets"), "day": d.get("oldest_opened_on")}
        if kind == "churn_risk":
            return _("Churn probability %(p)s %% by %(model)s.") % {
                "p": round(float(d.get("probability", 0)) * 100), "model": d.get("model", "")}
    except (TypeError, ValueError):
        pass
    return alert.rule.get_kind_display()


def _int(value) -> str:
    try:
        return str(round(float(value)))
    except (TypeError, ValueError):
        return "—"
