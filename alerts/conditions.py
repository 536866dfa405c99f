"""When does a rule match? One bulk query set per rule kind and day, for live runs and dry runs alike.

`matches(kind, threshold, day, ids, scores)` returns {customer id: details} for the
customers in `ids` that meet the rule at the start of `day`; "a week" is [day − 7, day).
Health rules read scores through `scores(ids, day)` (stored snapshots, computed where
missing), so a dry run over past weeks sees what a daily run would have seen.
"""

import datetime
from collections import defaultdict

from django.db.models import Count, Min, Q

from accounts.models import Customer, Subscription, Ticket
from accounts.reporting_time import day_of
from churn.selectors import risks_for_customers
from metrics.health import health_for_customers
from metrics.health_snapshots import BAND_RANK, scores_on
from metrics.health_versions import definition_of, models_for_customers
from metrics.models import UserDayActivity
from metrics.periods import day_start
from surveys.models import SurveyResponse
from surveys.scales import NPS, low_max

WEEK = datetime.timedelta(days=7)


def published_scores(ids, day: datetime.date) -> dict[int, tuple]:
    """Return {customer: (score, band)} at `day`: the stored snapshot, else computed with the published model."""
    ids = list(ids)
    found = {cid: (row.score, row.band or None) for cid, row in scores_on(ids, day).items()}
    missing = [cid for cid in ids if cid not in found]
    if missing:
        segments = dict(Customer.objects.filter(pk__in=missing).values_list("pk", "segment"))
        for model, group in models_for_customers(segments):
            for cid, health in health_for_customers(group, day, definition_of(model)).items():
                found[cid] = (health.score, health.band)
    return found


class ScoreCache:
    """Scores per day, computed once (a dry run asks for each week's scores twice)."""

    def __init__(self, source=published_scores):
        self.source, self.days = source, {}

    def __call__(self, ids, day):
        if day not in self.days:
            self.days[day] = self.source(ids, day)
        return self.days[day]


def _health(kind, threshold, day, ids, scores):
    now, before = scores(ids, day), scores(ids, day - WEEK)
    found = {}
    for cid in ids:
        (score, band), (old_score, old_band) = now.get(cid, (None, None)), before.get(cid, (None, None))
        if kind == "band_drop" and band and old_band and BAND_RANK[band] < BAND_RANK[old_band]:
            found[cid] = {"from_band": old_band, "to_band": band, "score": str(score)}
        elif kind == "score_drop" and score is not None and old_score is not None and old_score - score >= threshold:
            found[cid] = {"from_score": str(old_score), "score": str(score), "drop": str(old_score - score)}
    return found


def _usage(threshold, day, ids):
    counts = defaultdict(lambda: [0, 0])
    rows = (
        UserDayActivity.objects.filter(customer_id__in=ids, day__gte=day - 2 * WEEK, day__lt=day)
        .values("customer_id")
        .annotate(now=Count("pk", filter=Q(day__gte=day - WEEK)), before=Count("pk", filter=Q(day__lt=day - WEEK)))
    )
    for row in rows:
        counts[row["customer_id"]] = [row["now"], row["before"]]
    found = {}
    for cid, (now, before) in counts.items():
        if before and (before - now) * 100 >= threshold * before:
            found[cid] = {"user_days": now, "user_days_week_before": before, "drop_pct": round(100 * (before - now) / before)}
    return found


def _renewal(threshold, day, ids):
    rows = (
        Subscription.objects.paying_at(day)
        .filter(customer_id__in=ids, ended_at__lte=day + datetime.timedelta(days=threshold))
        .values("customer_id")
        .annotate(on=Min("ended_at"))
    )
    return {row["customer_id"]: {"renewal_on": row["on"].isoformat()} for row in rows}


def _detractor(day, ids):
    rows = SurveyResponse.objects.filter(
        customer_id__in=ids, survey_type=NPS, score__lte=low_max(NPS),
        responded_at__gte=day_start(day - WEEK), responded_at__lt=day_start(day),
    ).order_by("responded_at").values_list("customer_id", "score", "comment")  # fmt: skip
    return {cid: {"score": score, "comment": comment[:300]} for cid, score, comment in rows}


def _ticket_open(threshold, day, ids):
    start = day_start(day)
    rows = (
        Ticket.objects.filter(customer_id__in=ids, opened_at__lt=start - datetime.timedelta(days=threshold))
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .values("customer_id")
        .annotate(n=Count("pk"), oldest=Min("opened_at"))
    )
    return {r["customer_id"]: {"open_tickets": r["n"], "oldest_opened_on": day_of(r["oldest"]).isoformat()} for r in rows}


def _churn_risk(threshold, day, ids):
    """Customers whose churn probability (stored that day, else by the published model) is at least N %."""
    return {
        cid: {"probability": f"{risk.probability:.3f}", "mrr_at_risk": str(round(risk.mrr_at_risk, 2)), "model": risk.model.label}
        for cid, risk in risks_for_customers(ids, day).items()
        if risk.probability * 100 >= threshold
    }


def matches(kind: str, threshold: int, day: datetime.date, ids, scores=published_scores) -> dict[int, dict]:
    """Return {customer id: details} of the customers in `ids` the rule matches at the start of `day`."""
    ids = list(ids)
    if not ids:
        return {}
    if kind in ("band_drop", "score_drop"):
        return _health(kind, threshold, day, ids, scores)
    if kind == "usage_drop":
        return _usage(threshold, day, ids)
    if kind == "renewal":
        return _renewal(threshold, day, ids)
    if kind == "detractor":
        return _detractor(day, ids)
    if kind == "ticket_open":
        return _ticket_open(threshold, day, ids)
    if kind == "churn_risk":
        return _churn_risk(threshold, day, ids)
    raise ValueError(f"unknown rule kind {kind!r}")
