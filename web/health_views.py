"""Pages of health models and alerts: backtest and publish, health changes, alert rules and dry runs,
and the account's health section (score history, CSM rating, playbook runs).

Views parse input, call one service or selector and render; HTMX requests get the named
partial. Admins backtest and publish; admins and managers manage rules; everybody sees
the health of the customers they may see.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import policy, reporting_time
from alerts import playbooks, services
from alerts.dryrun import dry_run
from web.alert_forms import AlertRuleForm, BacktestForm, CsmRatingForm, DryRunForm, PlaybookStartForm
from alerts.models import AlertRule
from alerts.schedule import next_evaluation
from metrics import kpis
from metrics.backtest import backtest_dates, backtest_run
from metrics.health_snapshots import band_changes_for_user, health_history
from metrics.health_versions import PublishError, csm_rating_add, default_model, model_publish
from metrics.models import HealthModel
from web import charts
from web.forms import as_of_for
from web.kpi_display import BAND_LABELS
from web.pages import changeable_customer_or_403, customer_or_404, template_for

BANDS = [(band, BAND_LABELS[band], css) for band, css in zip(kpis.HEALTH_BANDS, ("s1", "s3", "s4"), strict=True)]


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied


# --- Backtest and publish (admins) --------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def backtest(request):
    _require(policy.may_manage_configuration(request.user))
    default_model()  # version 1 exists before anyone backtests
    source = request.POST if request.method == "POST" else request.GET
    version = source.get("version")
    if version:  # a version that is not one: 404, whatever its spelling
        if not (version.isascii() and version.isdigit() and len(version) < 19):
            raise Http404(_("No such health model version."))
        model = get_object_or_404(HealthModel, pk=int(version))
    else:  # a draft first: the version waiting for review
        model = HealthModel.objects.order_by("status", "-created_at").first()
    form = BacktestForm(request.POST or None, initial={"version": model, "months": 12})
    if request.method == "POST":
        if request.POST.get("action") == "publish":
            try:
                model_publish(model=model, user=request.user)
                messages.success(request, _("%(model)s is published; tomorrow's snapshots use it.") % {"model": model})
            except PublishError as exc:
                messages.error(request, str(exc))
        elif form.is_valid():
            model = form.cleaned_data["version"]
            dates = backtest_dates(reporting_time.today(), form.cleaned_data["months"])
            backtest_run(model=model, dates=dates, user=request.user)
        return redirect(f"{reverse('alerts:backtest')}?version={model.pk}")
    run = model.backtests.first()
    result = run.result if run else None
    context = {"form": form, "model": model, "run": run, "result": result, "versions": HealthModel.objects.all()}
    if result:
        context["roc_svg"] = charts.roc_chart(result["roc"], result["auc"])
        context["band_svg"] = charts.band_bars(
            [(label, result["bands"][key]["churn_rate"], css) for key, label, css in BANDS], _("Churn within 90 days per band")
        )
        context["bands"] = [(key, label, result["bands"][key]) for key, label, _css in BANDS]
    return render(request, "alerts/backtest.html", context)


# --- Health changes (everybody, their customers) -----------------------------------------


@login_required
@require_GET
def health_changes(request):
    day = reporting_time.today()
    changes = band_changes_for_user(request.user, day)
    return render(request, "alerts/health_changes.html", {"changes": changes, "day": day})


# --- Alert rules (admins and managers) ---------------------------------------------------


def _require_rules(request):
    """Admins and managers read the rules; only admins add, dry-run (it is recorded) or switch them."""
    _require(policy.sees_all_customers(request.user))
    if request.method == "POST":
        _require(policy.may_manage_configuration(request.user))


def _rules_context(form):
    return {"rules": AlertRule.objects.select_related("webhook", "playbook"), "form": form,
            "next_run": next_evaluation(timezone.now())}  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def rules(request):
    _require_rules(request)
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        messages.success(request, _("Rule “%(name)s” added, disabled: dry-run it, then enable it.") % {"name": rule.name})
        return redirect("alerts:rule", pk=rule.pk)
    context = {**_rules_context(form), "can_manage": policy.may_manage_configuration(request.user)}
    return render(request, template_for(request, "alerts/rules.html", "rule-list"), context)


@login_required
@require_http_methods(["GET", "POST"])
def rule(request, pk):
    _require_rules(request)
    rule = get_object_or_404(AlertRule, pk=pk)
    form = DryRunForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():  # a POST: it records that the rule was dry-run
        result = dry_run(rule.kind, rule.threshold, reporting_time.today(), form.cleaned_data["weeks"])
        rule.dry_run_at = timezone.now()
        rule.save(update_fields=["dry_run_at"])
    weeks_svg = None
    if result:
        labels = [date_format(datetime.date.fromisoformat(w["day"]), "d M") for w in result["weeks"]]
        series = [
            charts.Series(_("matching"), [w["fired"] for w in result["weeks"]]),
            charts.Series(_("new tasks"), [w["new"] for w in result["weeks"]], "s2"),
        ]
        weeks_svg = charts.line_chart(_("Customers matching per week"), labels, series)
    context = {
        "rule": rule, "form": form, "result": result, "weeks_svg": weeks_svg,
        "can_manage": policy.may_manage_configuration(request.user),
        "next_run": next_evaluation(timezone.now()),
        "actions_oob": request.htmx and result is not None,  # the Enable button comes with the dry run's result
    }  # fmt: skip
    return render(request, template_for(request, "alerts/rule.html", "dry-run"), context)


@login_required
@require_POST
def rule_toggle(request, pk):
    _require_rules(request)
    rule = get_object_or_404(AlertRule, pk=pk)
    try:
        services.rule_enable(rule, request.POST.get("enabled") == "1")
        message = _("“%(name)s” is enabled.") if rule.enabled else _("“%(name)s” is disabled.")
        messages.success(request, message % {"name": rule.name})
    except services.RuleError:
        messages.error(request, _("Dry-run the rule before enabling it."))
    return redirect("alerts:rule", pk=rule.pk)


# --- The account's health section --------------------------------------------------------


def _account_context(request, customer, **forms):
    as_of = as_of_for(request, reporting_time.today())  # a past view: the history up to that day, read-only
    day = as_of.day
    history = health_history(customer.pk, day)
    chart = charts.line_chart(
        _("Health score by day"),
        [date_format(h.day, "d M") for h in history],
        [charts.Series(_("score"), [h.score for h in history])],
    )
    return {
        "customer": customer,
        "history": history,
        "history_svg": chart,
        "runs": playbooks.runs_for_customer(customer.pk, before=as_of.day if as_of.past else None),
        "as_of": as_of,
        "playbook_form": forms.get("playbook_form") or PlaybookStartForm(),
        "rating_form": forms.get("rating_form") or CsmRatingForm(),
        "can_change": policy.may_change_customer(request.user, customer) and not as_of.past,
    }


@login_required
@require_GET
def account_health(request, pk):
    customer = customer_or_404(request, pk)
    return render(request, template_for(request, "alerts/account_health.html", "account-health"), _account_context(request, customer))


def _account_action(request, pk, form_class, form_key, act):
    """Validate `form_class`, `act(customer, data)`, then re-render the section (HTMX) or redirect."""
    customer = changeable_customer_or_403(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        act(customer, form.cleaned_data)
        if not request.htmx:
            return redirect("alerts:account-health", pk=customer.pk)
        form = None
    return render(request, "alerts/account_health.html#account-health", _account_context(request, customer, **{form_key: form}))


@login_required
@require_POST
def playbook_start(request, pk):
    def start(customer, data):
        playbooks.playbook_start(playbook=data["playbook"], customer=customer, user=request.user)

    return _account_action(request, pk, PlaybookStartForm, "playbook_form", start)


@login_required
@require_POST
def rating_add(request, pk):
    def add(customer, data):
        csm_rating_add(customer=customer, author=request.user, **data)

    return _account_action(request, pk, CsmRatingForm, "rating_form", add)
