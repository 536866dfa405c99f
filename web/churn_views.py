"""Pages of the churn model: the model card with its backtest (everyone reads, admins train and publish),
and the churn risk section of an account page (customers the user may see).
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import policy
from accounts import reporting_time
from accounts.models import Customer
from churn import charts, tasks, wording
from churn.drivers import typical_values
from churn.feature_list import GROUPS, feature_of_column
from churn.models import ChurnModel
from churn.scoring import usable
from churn.selectors import published_model, risks_for_customers
from churn.publishing import PublishError, model_publish
from web.forms import as_of_for


def _coefficients(model: ChurnModel) -> list[tuple]:
    """(group label, rows) of the logistic part's coefficients, largest effect first within a group."""
    part = model.params["parts"].get("due", {})
    if part.get("kind") != "logistic":
        return []
    typical = typical_values(model.params, part)
    rows = {}
    for column, coef in zip(model.columns, part["coef"], strict=True):
        feature = feature_of_column(column)
        rows.setdefault(feature.group, []).append({
            "column": column, "label": wording.feature_label(column), "coef": coef,
            "typical": wording.format_value(column, typical[column], typical=True) if column in typical else "",
            "learned": abs(coef) > 1e-9,
        })  # fmt: skip
    return [
        (wording.GROUP_LABELS[g], sorted(rows[g], key=lambda r: -abs(r["coef"]))) for g in GROUPS if g in rows
    ]


def _card_context(model: ChurnModel | None) -> dict:
    if model is None:
        return {"model": None}
    evaluation = model.evaluation
    dates = evaluation["dates"]
    return {
        "model": model,
        "ev": evaluation,
        "test_first": datetime.date.fromisoformat(dates["first"]) if dates["first"] else None,
        "test_last": datetime.date.fromisoformat(dates["last"]) if dates["last"] else None,
        "checks": [(c["ok"], wording.check_sentence(c)) for c in model.verdict],
        "roc_svg": charts.roc_chart(evaluation["model"]["roc"], evaluation["health"]["roc"]),
        "calibration_svg": charts.calibration_chart(evaluation["model"]["calibration"], evaluation["health"]["calibration"]),
        "deciles": list(zip(evaluation["model"]["calibration"], evaluation["health"]["calibration"], strict=False)),
        "coefficients": _coefficients(model),
        "rate_part": model.params["parts"].get("not_due"),
        "usable": usable(model),
        "backtests": list(model.backtests.all()[:10]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def model_card(request):
    if request.method == "POST":
        return _model_action(request)
    versions = list(ChurnModel.objects.select_related("created_by", "published_by"))
    chosen = request.GET.get("version")
    model = next((m for m in versions if str(m.version) == chosen), None) if chosen else None
    if chosen and model is None:
        raise Http404(_("No such model version."))
    model = model or next((m for m in versions if m.status == ChurnModel.Status.PUBLISHED), None) or (versions or [None])[0]
    context = _card_context(model)
    context.update({"versions": versions, "published": published_model(), "can_train": policy.may_manage_configuration(request.user)})
    return render(request, "churn/model_card.html", context)


def _model_action(request):
    if not policy.may_manage_configuration(request.user):
        raise PermissionDenied
    action = request.POST.get("action")
    model = ChurnModel.objects.filter(version=request.POST.get("version") or 0).first()
    if action == "train":
        tasks.model_train_task.delay_on_commit(user_id=request.user.pk)
        messages.success(request, _("Training a new version in the background: it appears here in a minute or two."))
    elif action == "publish" and model:
        try:
            model_publish(model=model, user=request.user)
            messages.success(request, _("%(model)s is published; customers are scored with it from now on.") % {
                "model": wording.model_name(model)})  # fmt: skip
        except PublishError:
            messages.error(request, _("%(model)s cannot be published: it did not beat the health score.") % {
                "model": wording.model_name(model)})  # fmt: skip
    elif action == "backtest" and model:
        tasks.model_backtest_task.delay_on_commit(model.pk, user_id=request.user.pk)
        messages.success(request, _("Backtesting in the background: the result appears below in a minute or two."))
    else:
        raise Http404(_("Unknown action."))
    query = f"?version={model.version}" if model else ""
    return redirect(reverse("churn:model") + query)


@login_required
@require_GET
def account_risk(request, pk):
    try:
        customer = policy.visible_customers(request.user).get(pk=pk)
    except Customer.DoesNotExist:
        raise Http404(_("No such customer.")) from None
    as_of = as_of_for(request, reporting_time.today())
    risk = risks_for_customers([customer.pk], as_of.day, explain=True).get(customer.pk)
    context = {
        "customer": customer,
        "as_of": as_of,
        "risk": risk,
        "drivers": wording.driver_sentences(risk.drivers, risk.model.horizon_days) if risk else [],
        "published": published_model(),
        "model": risk.model if risk else None,
    }
    page = "churn/account_risk.html"
    if request.htmx and not request.htmx.history_restore_request:
        page += "#churn-risk"
    return render(request, page, context)
