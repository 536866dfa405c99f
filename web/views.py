"""HTML views of the CSM app. One view and one template serve a page and its HTMX fragment.

Views parse input, call `web.selectors` (which call the KPI engine) and render; HTMX
requests get the partial named after `#`, other requests the full page, so every page
works without JavaScript.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_ratelimit.decorators import ratelimit
from rest_framework.authtoken.models import Token

from accounts import policy
from accounts.models import Task
from churn.selectors import report_risk
from lib.db_routing import reads_from_replica
from metrics import catalogue
from metrics.quality import CHECKS as QUALITY_CHECKS
from metrics.selectors import KPI_KEYS, compute_kpis
from web import charts, selectors
from web.csvexport import csv_response
from web.forms import NoteForm, PortfolioFilterForm, ReportForm, TaskForm, as_of_for
from web.kpi_display import format_kpi, kpi_label
from web.pages import changeable_customer_or_403, customer_or_404, template_for

PAGE_SIZE = 25
HIDDEN_COLUMNS = {"id", "customer_id", "contact_id"}


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


# --- Portfolio --------------------------------------------------------------------------


def _portfolio(request):
    user = request.user
    manager = policy.sees_all_customers(user)
    form = PortfolioFilterForm(
        request.GET or None,
        segments=selectors.portfolio_segments(user),
        csms=list(selectors.csm_users()) if manager else None,
    )
    filters = form.filters() if request.GET else selectors.PortfolioFilters()
    return form, filters, selectors.portfolio(user, filters)


@dataclass
class PortfolioPage:
    """One page of the portfolio: its customers' ids and the links to its neighbours.

    A link to the next (previous) page carries the last (first) row's cursor beside the page
    number, and that page is read from the cursor on (keyset pagination: an index range, so a
    deep page costs what the first does). A bare `?page=N` (old links, typed numbers) is read
    with an OFFSET; an edited or stale cursor falls back to it. The number shown is the
    link's: after concurrent changes it can be one off, the rows never repeat or skip.
    """

    ids: list[int]
    number: int
    num_pages: int
    has_previous: bool
    has_next: bool
    previous_before: str | None = None
    next_after: str | None = None

    @property
    def paginator(self):
        return self  # the template reads page.paginator.num_pages, as of a Django page

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return max(1, self.number - 1)

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _page_number(value, num_pages: int) -> int:
    try:
        return min(max(1, int(value)), num_pages)
    except (TypeError, ValueError):
        return 1


def _portfolio_page(request, found) -> PortfolioPage:
    num_pages = max(1, -(-found.total // PAGE_SIZE))
    number = _page_number(request.GET.get("page"), num_pages)
    after, before = request.GET.get("after"), request.GET.get("before")
    rows = None
    if after or before:
        rows = found.seek(after or before, PAGE_SIZE, before=not after)
    if rows:  # from a cursor: one row more than the page says whether there is a page beyond
        if after:
            has_previous, has_next = True, len(rows) > PAGE_SIZE
            rows = rows[:PAGE_SIZE]
        else:
            has_previous, has_next = len(rows) > PAGE_SIZE, True
            rows = rows[-PAGE_SIZE:]
        number = max(2, number) if has_previous else 1
    else:
        start = (number - 1) * PAGE_SIZE
        if found.ordered_ids is not None:  # sorted in Python (renewal): numbers only
            rows = [(pk, None) for pk in found.ordered_ids[start : start + PAGE_SIZE + 1]]
        else:
            rows = list(found.keyed(start, start + PAGE_SIZE + 1))
        has_previous, has_next = number > 1, len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
    return PortfolioPage(
        ids=[pk for pk, _cursor in rows],
        number=number,
        num_pages=max(num_pages, number + 1 if has_next else number),
        has_previous=has_previous,
        has_next=has_next,
        previous_before=rows[0][1] if rows and has_previous and number > 2 else None,
        next_after=rows[-1][1] if rows and has_next else None,
    )


@login_required
@require_GET
def portfolio(request):
    form, filters, found = _portfolio(request)
    # The page's ids first (only the sort key computed for the rows skipped), then its rows.
    page = _portfolio_page(request, found)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": selectors.rows_of(found, page.ids),
        "total": found.total,
        "bands": found.bands,
        "mrr_total": found.mrr_total,
        "mrr_at_risk": found.mrr_at_risk,
        "churn_model": found.churn_model,
        "is_manager": policy.sees_all_customers(request.user),
    }
    return render(request, template_for(request, "web/portfolio.html", "portfolio-table"), context)


@login_required
@require_GET
def portfolio_export(request):
    _form, _filters, found = _portfolio(request)
    header = [
        "customer", "external_id", "segment", "owner", "health_score", "health_band", "mrr", "mrr_30_days_before",
        "mrr_change", "renewal_on", "last_activity_on", "open_tickets", "latest_nps", "open_tasks", "churn_probability",
        "mrr_at_risk",
    ]  # fmt: skip
    ids = list(found.ids())
    rows = (row for i in range(0, len(ids), 2000) for row in selectors.rows_of(found, ids[i : i + 2000]))  # streamed
    return csv_response(
        "portfolio.csv",
        header,
        (
            [
                r.customer.name, r.customer.external_id, r.customer.segment,
                r.customer.owner.get_username() if r.customer.owner else "", r.health_score, r.band or "",
                r.mrr, r.mrr_before, r.mrr_change, r.renewal_on, r.last_activity_on, r.open_tickets,
                r.latest_nps, r.open_tasks, r.churn_probability, r.mrr_at_risk,
            ]  # fmt: skip
            for r in rows
        ),
    )


# --- Account 360 ------------------------------------------------------------------------


def _account_context(request, customer, as_of=None, **forms):
    as_of = as_of or as_of_for(request)
    account = selectors.account_360(customer, as_of.day)
    last_label = date_format(as_of.day, "j M y") if as_of.past else _("today")
    return {
        "account": account,
        "as_of": as_of,
        "account_mrr_labels": [date_format(d, "M y") for d, _v in account.mrr_series[:-1]] + [last_label],
        "account_mrr_values": [v for _d, v in account.mrr_series],
        "account_activity_labels": [date_format(p.start, "M y") for p, _k in account.activity_series],
        "account_mau_values": [k["mau"].value for _p, k in account.activity_series],
        "customer": customer,
        "can_change": not as_of.past and policy.may_change_customer(request.user, customer),  # a past view is read-only
        "note_form": forms.get("note_form") or NoteForm(),
        "task_form": forms.get("task_form") or TaskForm(),
        "timeline": selectors.account_timeline(customer, at=as_of.day if as_of.past else None, notes=account.notes),
        "today": as_of.day,
        "contacts": selectors.account_contacts(customer),
    }


@login_required
@require_GET
def account(request, pk):
    customer = customer_or_404(request, pk)
    return render(request, "web/account.html", _account_context(request, customer))


@login_required
@require_GET
def account_timeline(request, pk):
    customer = customer_or_404(request, pk)
    as_of = as_of_for(request)
    if not request.htmx:
        return redirect(reverse("web:account", args=[pk]) + as_of.query)
    timeline = selectors.account_timeline(customer, at=as_of.day if as_of.past else None)
    context = {"customer": customer, "timeline": timeline, "as_of": as_of}
    return render(request, "web/account.html#timeline", context)


def _account_form_post(request, pk, form_class, form_key, user_field, saved_message, partial):
    """Add a note or task to an account: save the form with its customer and the user in `user_field`,
    then answer with the section (`partial`, HTMX) or the page (a redirect, or the page with the form's errors)."""
    customer = changeable_customer_or_403(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        obj = form.save(commit=False)
        obj.customer = customer
        setattr(obj, user_field, request.user)
        obj.save()
        if not request.htmx:
            messages.success(request, saved_message)
            return redirect("web:account", pk=pk)
        form = None
    if request.htmx:
        return partial(request, customer, form)
    return render(request, "web/account.html", _account_context(request, customer, **{form_key: form}), status=400)


def _activity_partial(request, customer, form=None):
    context = {
        "customer": customer,
        "note_form": form or NoteForm(),
        "can_change": True,
        "timeline": selectors.account_timeline(customer),
    }
    return render(request, "web/account.html#activity", context)


@login_required
@require_POST
def note_create(request, pk):
    return _account_form_post(request, pk, NoteForm, "note_form", "author", _("Note added."), _activity_partial)


def _tasks_partial(request, customer, form=None):
    context = {
        "customer": customer,
        "account": {"tasks": selectors.account_tasks(customer)},
        "task_form": form or TaskForm(),
        "can_change": True,
        "today": selectors.today(),
    }
    response = render(request, "web/account.html#tasks", context)
    return trigger_client_event(response, "timeline-changed")


@login_required
@require_POST
def task_create(request, pk):
    return _account_form_post(request, pk, TaskForm, "task_form", "assignee", _("Task added."), _tasks_partial)


@login_required
@require_POST
def task_complete(request, pk):
    task = get_object_or_404(policy.restrict(Task.objects.select_related("customer"), request.user), pk=pk)
    if not policy.may_change_customer(request.user, task.customer_id):
        raise PermissionDenied
    if task.completed_at is None:
        task.completed_at = timezone.now()
        task.save(update_fields=["completed_at"])
    if request.htmx:
        if request.POST.get("view") == "account":
            return _tasks_partial(request, task.customer)
        return render(
            request, "web/tasks.html#task-row", {"task": task, "today": selectors.today(), "just_done": True}
        )
    messages.success(request, _("Task “%(title)s” completed.") % {"title": task.title})
    return redirect(_safe_next(request, reverse("web:tasks")))


# --- Tasks ------------------------------------------------------------------------------


@login_required
@require_GET
def tasks(request):
    show = request.GET.get("show", "open")
    if show not in ("open", "done", "all"):
        show = "open"
    context = {"tasks": list(selectors.tasks_for_user(request.user, show)[:200]), "show": show,
               "today": selectors.today()}  # fmt: skip
    return render(request, template_for(request, "web/tasks.html", "task-list"), context)


# --- Reports ----------------------------------------------------------------------------


def _report_form(request, as_of):
    """The report form of the request; without a period or scope, the last full month before the as-of day."""
    if any(key != "as_of" for key in request.GET):
        return ReportForm(request.GET, user=request.user, at=as_of.day)
    month = selectors.default_report_period(as_of.day).start.strftime("%Y-%m")
    data = {"scope": _default_scope(request.user), "month": month}
    return ReportForm(data, user=request.user, at=as_of.day)


def _default_scope(user) -> str:
    return policy.default_scope_label(user)


@login_required
@require_GET
@reads_from_replica
def reports(request):
    as_of = as_of_for(request)
    form = _report_form(request, as_of)
    context = {"form": form, "as_of": as_of}
    if form.is_valid() and form.cleaned_data["period"].start >= as_of.day:
        # Nothing has happened in it yet: no figures (churn 0 %, retention 100 % would be invented).
        context["future_period"] = form.cleaned_data["period"]
    elif form.is_valid():
        if form.cleaned_data["period"].end > as_of.day:
            context["partial_until"] = as_of.day
        report = selectors.team_report(request.user, form.cleaned_data["scope_obj"], form.cleaned_data["period"])
        context.update(report_context(report))
        context["churn"] = report_risk(report.scope, as_of.day, [user for user, _kpis in report.comparison or ()])
    status = 200 if form.is_valid() else 400
    return render(request, template_for(request, "web/reports.html", "report-body"), context, status=status)


def report_context(report) -> dict:
    sections = [
        (title, [(k, report.current[k], report.before[k]) for k in keys]) for title, keys in selectors.REPORT_SECTIONS
    ]
    drop_off = report.current["onboarding_drop_off"]
    return {
        "report": report,
        "sections": sections,
        "charts": charts.report_charts(report.trends, kpi_label, format_kpi),
        "funnel_steps": list((drop_off.extra.get("steps") or {}).items()),
        "quality_checks": [(QUALITY_CHECKS.get(k, k), n) for k, n in (report.quality.get("checks") or {}).items()],
    }


@login_required
@require_GET
@reads_from_replica
def report_rows(request, key):
    if key not in KPI_KEYS:
        raise Http404(_("Unknown KPI."))
    as_of = as_of_for(request)
    form = ReportForm(request.GET, user=request.user, at=as_of.day)
    if not form.is_valid():
        raise Http404(_("Choose a period and a scope you may see."))
    period, scope = form.cleaned_data["period"], form.cleaned_data["scope_obj"]
    rows = selectors.drilldown_rows(request.user, key, scope, period)
    columns = []
    for row in rows:  # rows of two shapes (customers, then costs) share one table
        columns += [c for c in row if c not in columns and c not in HIDDEN_COLUMNS]
    kpi = compute_kpis(scope, period, [key])[key]
    context = {
        "key": key,
        "label": kpi_label(key),
        "definition": catalogue.get(key),
        "value": format_kpi(key, kpi),
        "kpi": kpi,
        "period": period,
        "scope": scope,
        "columns": columns,
        "rows": rows[:500],
        "total": len(rows),
        "restricted": not policy.sees_all_customers(request.user),
        "as_of": as_of,
    }
    return render(request, template_for(request, "web/report_rows.html", "rows-table"), context)


@login_required
@require_GET
def kpi_definitions(request):
    """What every KPI means, grouped as in the reports (from metrics.catalogue)."""
    groups = [(group, [kpi for kpi in catalogue.CATALOGUE if kpi.group == group]) for group in catalogue.GROUPS]
    return render(request, "web/kpi_definitions.html", {"groups": groups, "inputs": catalogue.INPUTS})


@login_required
@require_GET
@reads_from_replica
def report_export(request):
    as_of = as_of_for(request)
    data = request.GET if any(key != "as_of" for key in request.GET) else {"scope": _default_scope(request.user)}
    form = ReportForm(data, user=request.user, at=as_of.day)
    if not form.is_valid():
        raise Http404(_("Choose a period and a scope you may see."))
    period, scope = form.cleaned_data["period"], form.cleaned_data["scope_obj"]
    previous = period.previous()
    current, before = compute_kpis(scope, period), compute_kpis(scope, previous)
    header = ["kpi", "label", "value", "numerator", "denominator", "previous_value", "reason", "period_start",
              "period_end", "scope"]  # fmt: skip
    rows = [
        [key, str(kpi_label(key)), current[key].value, current[key].numerator, current[key].denominator,
         before[key].value, current[key].reason, period.start, period.end, scope.label]  # fmt: skip
        for key in KPI_KEYS
    ]
    return csv_response(f"kpis-{period.start}-{period.end}-{scope.label.replace(':', '-')}.csv", header, rows)


# --- Profile ----------------------------------------------------------------------------


@login_required
def profile(request):
    token = Token.objects.filter(user=request.user).first()
    context = {"token": token, "role": policy.role(request.user)}
    return render(request, template_for(request, "web/profile.html", "api-token"), context)


@login_required
@require_POST
def token_action(request):
    action = request.POST.get("action")
    token = Token.objects.filter(user=request.user).first()
    if action in ("create", "rotate") and policy.needs_second_factor(request.user) and not request.user.is_verified():
        message = _("Staff accounts create API tokens only after a one-time code: log in to admin with your "
                    "authenticator app, then come back.")  # fmt: skip
        if request.htmx:
            return render(request, "web/profile.html#api-token", {"token": token, "token_message": message})
        messages.error(request, message)
        return redirect("web:profile")
    if action in ("create", "rotate"):
        if token:
            token.delete()
        token = Token.objects.create(user=request.user)
        message = _("New API token created. The old one no longer works.") if action == "rotate" else _(
            "API token created."
        )
    elif action == "revoke":
        if token:
            token.delete()
        token = None
        message = _("API token revoked.")
    else:
        return HttpResponse(status=400)
    if request.htmx:
        return render(request, "web/profile.html#api-token", {"token": token, "token_message": message})
    messages.success(request, message)
    return redirect("web:profile")


# --- Password reset ---------------------------------------------------------------------


def _reset_email(group, request):
    return (request.POST.get("email") or "").strip().lower()


@ratelimit(group="password_reset", key="ip", method="POST", block=False,
           rate=lambda group, request: settings.CSPLATFORM_PASSWORD_RESET_IP_RATELIMIT)
@ratelimit(group="password_reset", key=_reset_email, method="POST", block=False,
           rate=lambda group, request: settings.CSPLATFORM_PASSWORD_RESET_RATELIMIT)
def password_reset(request):
    """Django's password reset, with a limit of emails per address and of requests per IP:
    past it, the form again with a 429 and nothing sent (the same answer whether the address exists)."""
    if getattr(request, "limited", False):
        form = PasswordResetForm(request.POST)
        form.is_valid()
        form.add_error("email", _("Too many password reset requests: try again in an hour."))
        context = {"form": form, "title": _("Password reset")}
        response = render(request, "registration/password_reset_form.html", context, status=429)
        response["Retry-After"] = "3600"
        return response
    return PasswordResetView.as_view()(request)
