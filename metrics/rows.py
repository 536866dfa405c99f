"""The rows behind each KPI, so that every number can be checked.

`rows_for(key, scope, period)` returns a list of plain dicts (or a values() queryset):
the customers behind a revenue figure with their MRR at start and end and what moved,
the responses behind NPS, the tickets behind first contact resolution, and so on. The
same selectors that feed the figures choose these rows.

`rows_for_user` is what interfaces call (the REST rows endpoint, the web drill-down): it
asks the access policy which kinds of rows the user may see (the catalogue's `row_access`
says which each key is made of) and reads the rows of the customers they may see only, in the query.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Sum

from accounts import policy
from accounts.models import CostEntry, Customer
from metrics import catalogue, kpis
from metrics.models import CustomerDayFeature, UsageSession, UserDayActivity
from metrics.periods import Period
from metrics.selectors import (
    KPI_KEYS,
    Scope,
    customers_paid_before,
    lead_cohort,
    mrr_by_customer,
    new_paying_customers,
    responses_in,
    tickets_resolved_in,
    trial_cohort,
)

# The kinds of rows each KPI is made of (`KpiDef.row_access`) are kinds of the access policy.
assert all(kpi.row_access <= set(policy.ROW_KINDS) for kpi in catalogue.CATALOGUE)

MOVEMENT_KEYS = {
    "mrr_new": "new",
    "mrr_reactivation": "reactivation",
    "mrr_expansion": "expansion",
    "mrr_contraction": "contraction",
    "mrr_churn": "churn",
}


def row_kind(key: str, row: dict) -> str:
    """Return the kind (shape) of one row behind `key`: its `kind` in the API."""
    return "cost" if "cost" in row else catalogue.get(key).row_shape


def _money(value):
    return f"{value.normalize():f}" if value is not None else None


def customer_movements(scope: Scope, period: Period) -> list[dict]:
    """One row per customer paying at start or end: MRR then and now and its movement."""
    opening = mrr_by_customer(scope, period.start)
    closing = mrr_by_customer(scope, period.end)
    paid_before = customers_paid_before(scope, period.start)
    ids = opening.keys() | closing.keys()
    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    rows = []
    for customer_id in sorted(ids, key=lambda i: names.get(i, "")):
        m0, m1 = opening.get(customer_id, kpis.ZERO), closing.get(customer_id, kpis.ZERO)
        movement = kpis.movement_of(m0, m1, customer_id in paid_before)
        rows.append(
            {
                "customer_id": customer_id,
                "customer": names.get(customer_id),
                "mrr_opening": _money(m0),
                "mrr": _money(m1),
                "paying_at_start": m0 > 0,
                "paying_at_end": m1 > 0,
                "movement": movement[0] if movement else None,
                "movement_amount": _money(movement[1]) if movement else None,
            }
        )
    return rows


def _revenue_rows(key, scope, period):
    rows = customer_movements(scope, period)
    if key in MOVEMENT_KEYS:
        return [r for r in rows if r["movement"] == MOVEMENT_KEYS[key]]
    if key == "logo_churn_rate":
        return [r for r in rows if r["paying_at_start"] and not r["paying_at_end"]]
    if key in ("customer_retention_rate", "customer_retention_cost"):
        return [r for r in rows if r["paying_at_start"] and r["paying_at_end"]]
    if key in ("net_revenue_retention", "gross_revenue_retention", "revenue_churn_rate", "mrr_opening"):
        return [r for r in rows if r["paying_at_start"]]
    if key in ("customers", "mrr", "arpu"):
        return [r for r in rows if r["paying_at_end"]]
    return rows


def _new_customers(scope, period):
    return list(
        new_paying_customers(scope, period)
        .annotate(customer=F("customer__name"))
        .values("customer_id", "customer", "first")
        .order_by("first")
    )


def _costs(period, categories):
    return list(
        CostEntry.objects.filter(month__gte=period.start, month__lt=period.end, category__in=categories)
        .values("month", "category", "amount")
        .order_by("month", "category")
    )


def _responses(scope, period, survey_type):
    return (
        responses_in(scope, period)
        .filter(survey_type=survey_type)
        .values("id", "customer_id", "customer__name", "contact_id", "score", "comment", "responded_at")
        .order_by("score", "responded_at")
    )


def rows_for_user(user, key: str, scope: Scope, period: Period):
    """The rows behind `key` that `user` may see: only rows of the customers they may see, only
    the row kinds the policy grants them; PermissionDenied when the key has none of those."""
    kinds = catalogue.get(key).row_access & policy.row_kinds(user)
    if not kinds:
        raise PermissionDenied("These rows are company data.")
    return rows_for(key, scope.seen_by(user), period, kinds)


def rows_for(key: str, scope: Scope, period: Period, kinds=frozenset(policy.ROW_KINDS)):
    """Return the rows behind `key` for the scope and period, of the row `kinds` asked for.

    Costs and leads are recorded for the whole company, so their rows are there only
    for the company scope, as their figures are.
    """
    costs = policy.COST_ROWS in kinds and scope.is_company
    if key in ("cac", "ltv_to_cac"):
        customers = _new_customers(scope, period) if policy.CUSTOMER_ROWS in kinds else []
        return customers + ([{"cost": c} for c in _costs(period, CostEntry.ACQUISITION)] if costs else [])
    if key == "customer_retention_cost":
        retained = _revenue_rows(key, scope, period) if policy.CUSTOMER_ROWS in kinds else []
        return retained + ([{"cost": c} for c in _costs(period, CostEntry.RETENTION)] if costs else [])
    if key == "clv":
        return [r for r in customer_movements(scope, period) if r["movement"] == "churn"]
    if key in MOVEMENT_KEYS or key in (
        "customers", "logo_churn_rate", "customer_retention_rate", "mrr", "mrr_opening", "arpu",
        "net_revenue_retention", "gross_revenue_retention", "revenue_churn_rate",
    ):  # fmt: skip
        return _revenue_rows(key, scope, period)
    if key == "conversion_rate":
        if policy.LEAD_ROWS not in kinds or not scope.is_company:
            return []
        return lead_cohort(period).values("id", "external_id", "source", "created_at", "converted_at", "customer_id")
    if key == "trial_conversion_rate":
        return trial_cohort(scope, period).values("id", "name", "first_trial", "converted").order_by("first_trial")
    if key in ("onboarding_completion_rate", "onboarding_drop_off"):
        return (
            scope.customers()
            .filter(created_on__gte=period.start, created_on__lt=period.end)
            .values("id", "name", "created_on")
            .order_by("created_on")
        )
    if key == "nps":
        return _responses(scope, period, "nps")
    if key == "csat":
        return _responses(scope, period, "csat")
    if key in ("ces", "ces_average"):
        return _responses(scope, period, "ces")
    if key == "first_contact_resolution_rate":
        return (
            tickets_resolved_in(scope, period)
            .filter(contacts_count__isnull=False)
            .values("id", "external_id", "customer_id", "customer__name", "opened_at", "resolved_at", "contacts_count")
            .order_by("resolved_at")
        )
    if key == "average_session_duration":
        return (
            scope.restrict(UsageSession.objects.filter(started_at__gte=period.start_at, started_at__lt=period.end_at))
            .values("id", "customer_id", "contact_id", "contact__external_id", "session_key", "started_at", "ended_at", "events")
            .annotate(duration_seconds=F("duration_us") / 1_000_000.0)
            .order_by("started_at")
        )
    if key == "feature_adoption":
        return (
            scope.restrict(CustomerDayFeature.objects.filter(day__gte=period.start, day__lt=period.end))
            .values("event_type")
            .annotate(customers=Count("customer_id", distinct=True), events=Sum("events"))
            .order_by("-customers", "event_type")
        )
    # mau, dau_average, dau_mau, events_per_active_user: the active users and their days.
    return (
        scope.restrict(UserDayActivity.objects.filter(day__gte=period.start, day__lt=period.end))
        .values("customer_id", "contact_id", "contact__external_id")
        .annotate(active_days=Count("id"), events=Sum("events"))
        .order_by("customer_id", "contact__external_id")
    )
