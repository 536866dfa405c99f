"""Reads of churn risk for the screens: per customer, per portfolio, as of a day.

A day's risk is the stored snapshot when the daily job wrote one (by the newest
non-draft version that scored that day), else computed now with the published version.
Callers pass customers the user may see; nothing here widens that.
"""

import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef

from accounts.models import Subscription
from churn.models import ChurnModel, ChurnScore
from churn.scoring import Risk, risks_computed, scores_write, usable
from metrics.selectors import Scope


def published_model() -> ChurnModel | None:
    """Return the published version if today's feature list can score with it."""
    model = ChurnModel.objects.filter(status=ChurnModel.Status.PUBLISHED).first()
    return model if usable(model) else None


def _stored(customer_ids, day: datetime.date) -> dict[int, Risk]:
    rows = (
        ChurnScore.objects.filter(customer_id__in=customer_ids, day=day)
        .exclude(model__status=ChurnModel.Status.DRAFT)
        .select_related("model")
        .order_by("model__published_at")
    )
    return {
        row.customer_id: Risk(
            row.customer_id, day, float(row.probability), row.mrr, row.model, "snapshot", row.drivers, row.term_ends_on
        )
        for row in rows  # the newest published version wins
    }


def risks_for_customers(customer_ids, day: datetime.date, *, explain: bool = False) -> dict[int, Risk]:
    """Return {customer: Risk} of the paying customers among `customer_ids` at the start of `day`."""
    ids = list(customer_ids)
    found = _stored(ids, day)
    missing = [cid for cid in ids if cid not in found]
    model = published_model()
    if missing and model is not None:
        found.update(risks_computed(model, missing, day, explain=explain))
    return found


def day_risks(day: datetime.date, model: ChurnModel, customers=None):
    """The stored probabilities of `day` by `model` (the published version), optionally only of the
    `customers` queryset: filtered, sorted and summed in the database (the portfolio)."""
    rows = ChurnScore.objects.filter(day=day, model=model)
    if customers is not None:
        rows = rows.filter(customer__in=customers.values("pk"))
    return rows


def day_risks_fill(day: datetime.date, model: ChurnModel, customers) -> int:
    """Score and store the customers of `customers` paying at the start of `day` that `model` has no row of yet."""
    paying = customers.filter(Exists(Subscription.objects.paying_at(day).filter(customer=OuterRef("pk"))))
    missing = list(paying.exclude(pk__in=day_risks(day, model).values("customer_id")).values_list("pk", flat=True))
    return scores_write(day, missing, model=model) if missing else 0


def day_risks_forget(customer_ids, day: datetime.date) -> int:
    """Delete the rows of `day` and later of these customers: data they were computed from changed."""
    deleted, _ = ChurnScore.objects.filter(customer_id__in=list(customer_ids), day__gte=day).delete()
    return deleted


def _summary(risks, model: ChurnModel) -> dict:
    mrr = sum((r.mrr for r in risks), Decimal(0))
    at_risk = sum((r.mrr_at_risk for r in risks), Decimal(0))
    return {
        "model": model,
        "customers": len(risks),
        "mrr": mrr,
        "mrr_at_risk": at_risk,
        "share": at_risk / mrr if mrr else None,
        "expected_churned": sum(r.probability for r in risks),
        "horizon_days": model.horizon_days,
    }


def risk_summary(customer_ids, day: datetime.date) -> dict | None:
    """Return MRR at risk (Σ probability × MRR) of the paying customers, their MRR and expected churned customers."""
    model = published_model()
    if model is None:
        return None
    return _summary(list(risks_for_customers(customer_ids, day).values()), model)


def report_risk(scope: Scope, day: datetime.date, csms=()) -> dict | None:
    """Return the churn risk summary of a report's scope at `day`, and one per CSM in `csms` (users)."""
    model = published_model()
    if model is None:
        return None
    risks = risks_for_customers(scope.customers().values_list("pk", flat=True), day)
    per_csm = []
    for user in csms:
        ids = set(Scope(csm=user.get_username()).customers().values_list("pk", flat=True))
        per_csm.append((user, _summary([r for cid, r in risks.items() if cid in ids], model)))
    return {**_summary(list(risks.values()), model), "day": day, "per_csm": per_csm}
