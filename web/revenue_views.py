"""Pages about revenue over time: renewals and their forecast, cohort retention, lost MRR by reason,
and the form that records why a subscription ended or shrank.

Views parse input, call the selectors of metrics (renewals, cohorts, losses) on customers the user may
see, and render one template per page (HTMX requests get the named fragment).
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import policy
from alerts.inbox import alerts_for_customers
from churn.selectors import risks_for_customers
from metrics import cohorts, losses, renewals
from metrics.periods import add_months
from web import charts, formatting, selectors
from web.forms import EndReasonForm, ScopeMonthsForm
from web.pages import changeable_customer_or_403, template_for

RENEWAL_WINDOWS = renewals.WINDOWS


# --- Renewals ---------------------------------------------------------------------------


def _renewal_customers(request):
    """The customers of the renewals page: what the user may see, narrowed to a CSM (managers) or segment."""
    customers = policy.visible_customers(request.user)
    csm = request.GET.get("csm", "") if policy.sees_all_customers(request.user) else ""
    if csm:
        customers = customers.filter(owner__username=csm)
    segment = request.GET.get("segment", "")
    if segment:
        customers = customers.filter(segment=segment)
    return customers, csm, segment


@login_required
@require_GET
def renewals_page(request):
    day = selectors.today()
    try:
        window = int(request.GET.get("days", 90))
    except ValueError:
        window = 90
    window = window if window in RENEWAL_WINDOWS else 90
    customers, csm, segment = _renewal_customers(request)
    terms = "annual" if request.GET.get("terms") == "annual" else ""
    widest = renewals.renewals_due(customers, day, max(RENEWAL_WINDOWS), min_months=12 if terms else 1)  # every tile
    rows = [r for r in widest if r.days_left < window]
    risks = risks_for_customers([r.customer.pk for r in rows], day) if rows else {}
    open_tasks = selectors.open_task_counts([r.customer.pk for r in rows])
    open_alerts = alerts_for_customers([r.customer.pk for r in rows])
    rates, backtest = renewals.band_churn_rates()
    windows = []
    for days in RENEWAL_WINDOWS:
        within = [r for r in widest if r.days_left < days]
        windows.append(
            {"days": days, "count": len(within), "mrr": sum((r.mrr for r in within), Decimal(0)),
             "arr": sum((r.arr for r in within), Decimal(0))}  # fmt: skip
        )
    month = request.GET.get("month", "")
    listed = [r for r in rows if r.renewal_on.strftime("%Y-%m") == month] if month else rows  # a forecast line's drill-down
    context = {
        "day": day,
        "month": month,
        "terms": terms,
        "window": window,
        "windows": windows,
        "rows": [
            (r, risks.get(r.customer.pk), open_tasks.get(r.customer.pk, 0), open_alerts.get(r.customer.pk, 0)) for r in listed
        ],
        "by_month": renewals.forecast(rows, "month"),
        "by_csm": renewals.forecast(rows, "csm") if policy.sees_all_customers(request.user) else None,
        "totals": renewals.forecast(rows, "all")[0] if rows else None,
        "rates": rates,
        "backtest": backtest,
        "csm": csm,
        "segment": segment,
        "csms": list(selectors.csm_users()) if policy.sees_all_customers(request.user) else None,
        "segments": selectors.portfolio_segments(request.user),
    }
    return render(request, template_for(request, "web/renewals.html", "renewals-body"), context)


# --- Cohorts ----------------------------------------------------------------------------


def _scope_form(request):
    return ScopeMonthsForm(request.GET or None, user=request.user, today=selectors.today())


def _cohort_cell(request, scope) -> dict | None:
    """The drill-down of the cell named by `cohort` (YYYY-MM) and `age`, or None when the request names none."""
    if "cohort" not in request.GET:
        return None
    try:
        month = datetime.date.fromisoformat(request.GET.get("cohort", "") + "-01")
        age = int(request.GET.get("age", ""))
    except ValueError:
        raise Http404(_("No such cohort.")) from None
    if not 0 <= age <= 60:
        raise Http404(_("No such cohort."))
    rows, hidden = selectors.cohort_cell_for_user(request.user, scope, month, age)
    return {"rows": rows, "hidden": hidden, "month": month, "age": age, "day": add_months(month, age + 1)}


@login_required
@require_GET
def cohorts_page(request):
    form = _scope_form(request)
    scope, until, months = form.values()
    day = selectors.today()
    first = add_months(until, -(months - 1))
    table = cohorts.cohort_table(scope, first, until, day)
    metric = "revenue" if request.GET.get("metric") == "revenue" else "logo"
    recent = [c for c in table if c.size][-3:]
    ages = list(range(len(table)))
    series = [charts.Series(_("All cohorts"), [k.value for k in cohorts.pooled(table, metric)], "s1")] + [
        charts.Series(date_format(c.month, "M Y"), [getattr(cell, metric).value if cell else None for cell in c.cells],
                      f"s{i + 2}")
        for i, c in enumerate(recent)
    ]  # fmt: skip
    chart = charts.line_chart(
        _("Revenue retention by month since sign-up") if metric == "revenue" else _("Logo retention by month since sign-up"),
        [str(a) for a in ages], series, fmt=formatting.percent,
    )  # fmt: skip
    context = {"form": form, "table": table, "ages": ages, "metric": metric, "chart": chart, "scope": scope,
               "cell": _cohort_cell(request, scope)}  # fmt: skip
    return render(request, template_for(request, "web/cohorts.html", "cohort-body"), context)


@login_required
@require_GET
def cohort_cell(request):
    """One cell's customers: the fragment for HTMX, else the cohort page with the drill-down filled in."""
    if not request.htmx:
        return cohorts_page(request)
    scope, _until, _months = _scope_form(request).values()
    cell = _cohort_cell(request, scope)
    if cell is None:
        raise Http404(_("No such cohort."))
    return render(request, "web/cohorts.html#cohort-cell", cell)


# --- Lost MRR by reason -----------------------------------------------------------------


@login_required
@require_GET
def churn_reasons_page(request):
    form = _scope_form(request)
    scope, until, months = form.values()
    table = losses.losses_by_month(scope, until, months)
    labels = losses.reason_labels(translation.get_language())
    reasons = [pk for pk in labels if any(pk in m.by_reason for m in table)]
    if any(None in m.by_reason for m in table):
        reasons.append(None)
    lines = [
        (labels.get(pk) if pk else _("No reason given"), pk, [m.by_reason.get(pk) for m in table],
         sum((m.by_reason.get(pk, Decimal(0)) for m in table), Decimal(0)))
        for pk in reasons
    ]  # fmt: skip
    lines.sort(key=lambda line: -line[3])
    month = request.GET.get("month", "")
    detail = next((m for m in table if m.period.start.strftime("%Y-%m") == month), None)
    detail_rows, hidden = [], 0
    if detail:
        rows, hidden = selectors.lost_customers_for_user(request.user, scope, detail)
        detail_rows = [dict(r, reason_label=labels.get(r["reason"]) if r["reason"] else _("No reason given")) for r in rows]
    chart = charts.stacked_bar_chart(
        _("Lost MRR by reason and month"), [date_format(m.period.start, "M y") for m in table],
        [charts.Series(name, [v or Decimal(0) for v in values], f"s{i % 8 + 1}") for i, (name, _pk, values, _t) in enumerate(lines)],
        [], fmt=formatting.money,
    )  # fmt: skip
    context = {
        "form": form, "table": table, "lines": lines, "scope": scope, "chart": chart,
        "totals": [m.total for m in table], "detail": detail, "detail_rows": detail_rows, "hidden": hidden,
    }  # fmt: skip
    return render(request, template_for(request, "web/churn_reasons.html", "reasons-body"), context)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_reason(request, pk, subscription_pk):
    """Record why a subscription of a customer the user may change ended or shrank."""
    customer = changeable_customer_or_403(request, pk)  # 404 if not seen, 403 for a manager
    subscription = get_object_or_404(customer.subscriptions, pk=subscription_pk, ended_at__isnull=False)
    form = EndReasonForm(request.POST or None, instance=subscription)
    saved = False
    if request.method == "POST" and form.is_valid():
        form.save()
        saved = True
        if not request.htmx:
            messages.success(request, _("Reason saved."))
            return redirect("web:account", pk=customer.pk)
    context = {"customer": customer, "subscription": subscription, "form": form, "saved": saved}
    status = 400 if request.method == "POST" and not saved else 200
    return render(request, template_for(request, "web/end_reason.html", "end-reason"), context, status=status)
