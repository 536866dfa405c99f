"""Survey reads for the results page, scoped to what the user may see.

Counting happens in the database (`values()` + `annotate()`); the view turns the counts
into NPS/CSAT/CES with `metrics.kpis` and into intervals with `surveys.stats`.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, DecimalField, F, Min, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncWeek

from accounts import policy
from accounts.models import MONEY, Subscription
from accounts.reporting_time import day_of, day_start, reporting_tz
from lib.subqueries import aggregate_of
from surveys.models import SurveyInvitation, SurveyResponse, SurveyType
from surveys.scales import BANDS

SENTIMENT_CUTOFF = 0.05  # |sentiment| below this is "neutral"


@dataclass(frozen=True)
class ResultFilters:
    survey_type: str = SurveyType.NPS
    start: datetime.date | None = None
    end: datetime.date | None = None  # exclusive
    segment: str = ""
    customer_id: int | None = None
    language: str = ""
    sentiment: str = ""  # "negative", "neutral", "positive"
    theme: str = ""
    band: str = ""  # "low", "mid", "high"
    granularity: str = "month"  # or "week"


def responses_for_user(user):
    """Return the responses of the customers `user` may see (all for managers and admins)."""
    return SurveyResponse.objects.filter(customer__in=policy.visible_customers(user).values("pk"))


def _customer_filters(qs, f: ResultFilters, prefix: str = "customer"):
    if f.segment:
        qs = qs.filter(**{f"{prefix}__segment": f.segment})
    if f.customer_id:
        qs = qs.filter(**{f"{prefix}_id": f.customer_id})
    return qs


def responses_filtered(user, f: ResultFilters):
    """Return the user's responses of one survey type that match every filter."""
    qs = _customer_filters(responses_for_user(user).filter(survey_type=f.survey_type), f)
    if f.start:
        qs = qs.filter(responded_at__gte=day_start(f.start))
    if f.end:
        qs = qs.filter(responded_at__lt=day_start(f.end))
    if f.language:
        qs = qs.filter(language=f.language)
    if f.sentiment == "negative":
        qs = qs.filter(sentiment__lte=-SENTIMENT_CUTOFF)
    elif f.sentiment == "positive":
        qs = qs.filter(sentiment__gte=SENTIMENT_CUTOFF)
    elif f.sentiment == "neutral":
        qs = qs.filter(sentiment__gt=-SENTIMENT_CUTOFF, sentiment__lt=SENTIMENT_CUTOFF)
    if f.theme:
        # JSON "contains" is not on SQLite; the quoted theme inside the JSON text is exact enough.
        qs = qs.filter(themes__icontains=f'"{f.theme}"')
    if f.band:
        low, high = BANDS[f.survey_type]
        qs = qs.filter({"low": Q(score__lte=low), "mid": Q(score__gt=low, score__lt=high), "high": Q(score__gte=high)}[f.band])
    return qs


def score_counts(responses) -> dict[int, int]:
    """Return {score: responses}."""
    return dict(responses.values_list("score").annotate(n=Count("pk")).order_by())


def mrr_at_response():
    """Return a subquery: the MRR the response's customer paid on the day of the response."""
    day = OuterRef("responded_on")  # annotated by the caller: TruncDate of a bare OuterRef has no type
    return aggregate_of(
        Subscription.objects.paying_at(day), Sum("mrr"), outer="customer", output_field=DecimalField(**MONEY)
    )


def revenue_by_score(responses) -> list[tuple[int, object]]:
    """Return (score, Σ customer MRR at response time) pairs, the weights of revenue-weighted NPS."""
    rows = (
        responses.annotate(responded_on=TruncDate("responded_at", tzinfo=reporting_tz()))
        .annotate(mrr=Coalesce(mrr_at_response(), 0, output_field=DecimalField()))
        .values("score", "mrr")
    )
    return [(row["score"], row["mrr"]) for row in rows]


def trend_counts(responses, granularity: str) -> dict[datetime.date, dict[int, int]]:
    """Return {period start: {score: responses}} by week or month (in the reporting time zone), oldest first."""
    trunc = TruncWeek if granularity == "week" else TruncMonth
    rows = responses.annotate(bucket=trunc("responded_at", tzinfo=reporting_tz())).values("bucket", "score").annotate(n=Count("pk")).order_by("bucket")
    trend: dict[datetime.date, dict[int, int]] = defaultdict(dict)
    for row in rows:
        bucket = day_of(row["bucket"])
        trend[bucket][row["score"]] = row["n"]
    return dict(trend)


def invitation_counts(user, f: ResultFilters) -> tuple[int, int]:
    """Return (invitations sent, of those answered) for the filters' survey type, customers and period."""
    qs = SurveyInvitation.objects.filter(
        customer__in=policy.visible_customers(user).values("pk"),
        survey__survey_type=f.survey_type,
        sent_at__isnull=False,
    )
    qs = _customer_filters(qs, f)
    if f.start:
        qs = qs.filter(sent_at__gte=day_start(f.start))
    if f.end:
        qs = qs.filter(sent_at__lt=day_start(f.end))
    totals = qs.aggregate(sent=Count("pk"), answered=Count("response"))
    return totals["sent"], totals["answered"]


def follow_up_stats(responses) -> tuple[int, int, list[float]]:
    """Return (follow-up tasks, completed ones, seconds from response to completion of each)."""
    with_task = responses.filter(follow_up_task__isnull=False)
    totals = with_task.aggregate(tasks=Count("pk"), done=Count("pk", filter=Q(follow_up_task__completed_at__isnull=False)))
    waits = (
        with_task.filter(follow_up_task__completed_at__isnull=False)
        .annotate(wait=F("follow_up_task__completed_at") - F("responded_at"))
        .values_list("wait", flat=True)
    )
    return totals["tasks"], totals["done"], [w.total_seconds() for w in waits]


def comments(responses):
    """Return the commented responses with their contact, customer and follow-up task."""
    return responses.exclude(comment="").select_related("contact", "customer", "follow_up_task").order_by("-responded_at")


def response_for_user(user, response_id: int) -> SurveyResponse | None:
    return responses_for_user(user).filter(pk=response_id).first()


def segments_for_user(user) -> list[str]:
    return list(
        policy.visible_customers(user).exclude(segment="").values_list("segment", flat=True).distinct().order_by("segment")
    )


def analysis_backlog() -> tuple[int, datetime.datetime | None]:
    """Return how many answers wait for their comment analysis and when the oldest of them came in
    (its last change): the lag of the analysis queue's beat task, shown in admin."""
    backlog = SurveyResponse.objects.filter(analyzed_at__isnull=True).aggregate(
        n=Count("pk"), oldest=Min(Coalesce("changed_at", "responded_at"))
    )
    return backlog["n"], backlog["oldest"]
