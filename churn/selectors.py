"""Reads of churn risk for the screens: per customer, per portfolio, as of a day.

A day's risk is the stored snapshot when the daily job wrote one (by the newest
non-draft version that scored that day), else computed now with the published version.
Callers pass customers the user may see; nothing here widens that.
"""

import datetime
from decimal import Decimal

from django.db import connections, router
from django.db.models import Count, Exists, F, OuterRef, Sum

from accounts.models import Customer, Subscription
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
    """Return the churn risk summary of a report's scope at `day`, and one per CSM in `csms` (users).

    Set-based: the scope's paying customers without a stored probability of the day are scored
    and stored first (as the portfolio does), then the scope is summed in one query and the CSMs
    (each the customers they own or are assigned to) in one grouped query, whatever their number.
    """
    model = published_model()
    if model is None:
        return None
    customers = scope.customers()
    rows = day_risks(day, model, customers)
    if day_risks_fill(day, model, customers):
        rows = rows.using(router.db_for_write(ChurnScore))  # read back where they were written (not a lagging replica)
    totals = rows.aggregate(
        n=Count("pk"), total_mrr=Sum("mrr"), at_risk=Sum(F("mrr") * F("probability")), expected=Sum("probability")
    )
    by_csm = _sums_by_csm(rows, [user.pk for user in csms]) if csms else {}
    empty = (0, None, None, None)
    per_csm = [(user, _figures(model, *by_csm.get(user.pk, empty))) for user in csms]
    figures = _figures(model, totals["n"], totals["total_mrr"], totals["at_risk"], totals["expected"])
    return {**figures, "day": day, "per_csm": per_csm}


def _sums_by_csm(rows, user_ids) -> dict[int, tuple]:
    """{user: (customers, MRR, MRR at risk, expected churned)} of the stored `rows` of each user's
    customers (owned or assigned, each customer once per user), in one grouped query."""
    owned = Customer.objects.filter(owner_id__in=user_ids).order_by().values(csm_id=F("owner_id"), cid=F("pk"))
    assigned = (
        Customer.assigned_users.through.objects.filter(user_id__in=user_ids)
        .order_by()
        .values(csm_id=F("user_id"), cid=F("customer_id"))
    )
    sqls, params = [], []
    for queryset in (owned, assigned, rows.order_by().values("customer_id", "mrr", "probability")):
        sql, query_params = queryset.query.sql_with_params()
        sqls.append(sql)
        params.extend(query_params)
    query = (
        f"SELECT p.csm_id, COUNT(*), SUM(r.mrr), SUM(r.mrr * r.probability), SUM(r.probability)"
        f" FROM ({sqls[0]} UNION {sqls[1]}) p JOIN ({sqls[2]}) r ON r.customer_id = p.cid GROUP BY p.csm_id"
    )  # UNION: a customer both owned by and assigned to a CSM counts once for them
    with connections[rows.db].cursor() as cursor:
        cursor.execute(query, params)
        return {user_id: sums for user_id, *sums in cursor.fetchall()}


def _figures(model: ChurnModel, customers, mrr, at_risk, expected) -> dict:
    """A summary as `_summary` shapes it, from sums the database made (SQLite answers floats)."""
    mrr, at_risk = _decimal(mrr), _decimal(at_risk)
    return {
        "model": model,
        "customers": customers,
        "mrr": mrr,
        "mrr_at_risk": at_risk,
        "share": at_risk / mrr if mrr else None,
        "expected_churned": float(expected or 0),
        "horizon_days": model.horizon_days,
    }


def _decimal(value) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.000001"))  # a float sum
