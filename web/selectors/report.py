"""The team report: the scopes a user may ask for, the KPIs of a scope and period with trends and a
comparison, and the rows behind a figure (metrics.rows)."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import policy
from accounts.models import Customer
from accounts.reporting_time import today
from metrics import catalogue
from metrics.quality import scope_quality
from metrics.periods import Period, add_months
from metrics.rows import rows_for_user
from metrics.grouped import kpis_of_scopes
from metrics.selectors import Scope, compute_kpis
from web.selectors.access import csm_users
from web.selectors.account import last_months


REPORT_SECTIONS = tuple((group.label, catalogue.keys_of(group)) for group in catalogue.GROUPS)  # metrics.catalogue

TREND_KEYS = (
    "mrr_new", "mrr_reactivation", "mrr_expansion", "mrr_contraction", "mrr_churn",
    "logo_churn_rate", "customer_retention_rate", "net_revenue_retention", "gross_revenue_retention",
    "nps", "csat", "ces", "dau_mau",
)  # fmt: skip
COMPARISON_KEYS = ("customers", "mrr", "logo_churn_rate", "net_revenue_retention", "nps")


def default_report_period(at: datetime.date | None = None) -> Period:
    """The last full calendar month."""
    first = (at or today()).replace(day=1)
    return Period(add_months(first, -1), first)


def report_scope_for(user, label: str) -> Scope:
    """Parse a scope label the user may ask for; raise ValueError otherwise."""
    scope = Scope.from_label(label or "company")
    if not policy.may_ask_scope(user, customer_id=scope.customer_id, csm=scope.csm):
        raise ValueError("no such scope")
    return scope


def report_scope_choices(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """Scope labels for the report form, grouped: company, segments, CSMs."""
    segments = list(
        Customer.objects.exclude(segment="").order_by("segment").values_list("segment", flat=True).distinct()
    )
    if policy.sees_all_customers(user):
        csms = [(u.get_username(), u.get_full_name() or u.get_username()) for u in csm_users()]
    else:
        csms = [(user.get_username(), user.get_full_name() or user.get_username())]
    return [
        ("", [("company", _("Whole company"))]),
        (_("Segment"), [(f"segment:{s}", s) for s in segments]),
        (_("CSM"), [(f"csm:{name}", label) for name, label in csms]),
    ]


@dataclass
class Report:
    period: Period
    previous: Period
    scope: Scope
    current: dict
    before: dict
    trends: list[tuple[Period, dict]]
    comparison: list[tuple[object, dict]] | None
    onboarding_steps: list[str]
    quality: dict = field(default_factory=dict)  # metrics.quality: open data-quality findings in the period


def team_report(user, scope: Scope, period: Period, *, with_trends: bool = True) -> Report:
    """Every KPI for the period and the one before, monthly trends, and the CSM comparison."""
    previous = period.previous()
    trends = []
    if with_trends:
        trends = [(m, compute_kpis(scope, m, TREND_KEYS)) for m in last_months(period.end)]
    comparison = None
    if policy.sees_all_customers(user) and scope.is_company:
        csms = list(csm_users().filter(Q(owned_customers__isnull=False) | Q(assigned_customers__isnull=False)))
        figures = kpis_of_scopes([Scope(csm=u.get_username()).label for u in csms], period, COMPARISON_KEYS)
        comparison = [(u, figures[Scope(csm=u.get_username()).label]) for u in csms]
    return Report(
        period=period,
        previous=previous,
        scope=scope,
        current=compute_kpis(scope, period),
        before=compute_kpis(scope, previous),
        trends=trends,
        comparison=comparison,
        onboarding_steps=list(settings.CSPLATFORM_ONBOARDING_STEPS),
        quality=scope_quality(scope, period),
    )


def drilldown_rows(user, key: str, scope: Scope, period: Period) -> list[dict]:
    """The rows behind a KPI that `user` may see, as dicts: the REST rows endpoint's rows
    (metrics.rows.rows_for_user; PermissionDenied for company cost or lead rows a CSM may not see).

    Aggregates are company-wide for every role, but a CSM reads only their own customers' rows.
    """
    return [_flat(r) for r in rows_for_user(user, key, scope, period)]


def _flat(row) -> dict:
    if "cost" in row:
        cost = row["cost"]
        return {"cost_month": cost["month"], "category": cost["category"], "amount": cost["amount"]}
    return dict(row)
