"""The survey results page for CSMs (their portfolio) and managers/admins (everything)."""

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from metrics import kpis
from surveys import selectors, services, stats
from surveys.forms import ResultFiltersForm, ThemesForm
from surveys.models import SurveyType
from surveys.scales import SCALES, high_min

SCORE_KPI = {SurveyType.NPS: kpis.nps, SurveyType.CSAT: kpis.csat, SurveyType.CES: kpis.ces}


def _filters(form) -> selectors.ResultFilters:
    data = form.cleaned_data if form.is_valid() else {}
    return selectors.ResultFilters(
        survey_type=data.get("survey_type") or SurveyType.NPS,
        start=data.get("start"),
        end=data.get("end"),
        segment=data.get("segment") or "",
        language=data.get("language") or "",
        sentiment=data.get("sentiment") or "",
        theme=data.get("theme") or "",
        band=data.get("band") or "",
        granularity=data.get("granularity") or "month",
    )


def score_summary(survey_type: str, counts: dict[int, int]) -> dict:
    """Return the score (from metrics.kpis), its 95 % interval and the small-sample mark."""
    kpi = SCORE_KPI[survey_type](counts)
    n = sum(counts.values())
    if survey_type == SurveyType.NPS:
        interval = stats.nps_interval(counts)
        value = None if kpi.value is None else float(kpi.value)
    else:
        interval = stats.share_interval(counts, high_min(survey_type))
        value = None if kpi.value is None else float(kpi.value) * 100
        interval = interval and stats.Interval(interval.low * 100, interval.high * 100)
    return {
        "value": value,
        "interval": interval,
        "n": n,
        "too_few": stats.too_few(n, settings.CSPLATFORM_SURVEY_MIN_SAMPLE),
        "extra": kpi.extra,
    }


@login_required
def results(request):
    form = ResultFiltersForm(request.GET or None, segments=selectors.segments_for_user(request.user))
    f = _filters(form)
    responses = selectors.responses_filtered(request.user, f)
    counts = selectors.score_counts(responses)
    low, high = SCALES[f.survey_type]
    total = sum(counts.values())
    distribution = [
        {"score": s, "n": counts.get(s, 0), "share": (100 * counts.get(s, 0) / total) if total else 0}
        for s in range(low, high + 1)
    ]
    summary = score_summary(f.survey_type, counts)
    weighted = None
    if f.survey_type == SurveyType.NPS:
        weighted_kpi = kpis.nps(stats.weighted_counts(selectors.revenue_by_score(responses)))
        weighted = None if weighted_kpi.value is None else float(weighted_kpi.value)
    trend = [
        {"start": start, **score_summary(f.survey_type, bucket)}
        for start, bucket in selectors.trend_counts(responses, f.granularity).items()
    ]
    sent, answered = selectors.invitation_counts(request.user, f)
    tasks, done, waits = selectors.follow_up_stats(responses)
    median_wait = stats.median_seconds(waits)
    page = Paginator(selectors.comments(responses), 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "filters": f,
        "survey_type_label": SurveyType(f.survey_type).label,
        "summary": summary,
        "weighted_nps": weighted,
        "distribution": distribution,
        "trend": trend,
        "sent": sent,
        "answered": answered,
        "response_rate": (100 * answered / sent) if sent else None,
        "follow_up_tasks": tasks,
        "follow_up_done": done,
        "loop_closure": (100 * done / tasks) if tasks else None,
        "median_wait": datetime.timedelta(seconds=round(median_wait)) if median_wait is not None else None,
        "page": page,
        "min_sample": settings.CSPLATFORM_SURVEY_MIN_SAMPLE,
        "query": request.GET.urlencode(),
    }
    return render(request, "surveys/results.html", context)


@login_required
@require_POST
def response_themes(request, response_id):
    response = selectors.response_for_user(request.user, response_id)
    if response is None:
        raise Http404
    if not policy.may_change_customer(request.user, response.customer_id):
        raise PermissionDenied  # managers read only
    form = ThemesForm(request.POST)
    if form.is_valid():
        services.themes_correct(response=response, themes=form.cleaned_data["themes"].split(","), user=request.user)
    next_url = request.POST.get("next", "")
    return redirect(f"{reverse('surveys:results')}?{next_url}#response-{response.pk}")
