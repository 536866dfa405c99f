"""Inputs of the KPI formulas, read from the database with aggregates.

Each `*_kpis` function answers one group of KPIs for a scope and period with a few
aggregate queries (usage from the rollups, never the raw events); `compute_kpis` feeds
them to the pure formulas in `metrics.kpis`.
"""

import dataclasses
import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum

from accounts import policy
from accounts.models import PAYING, CostEntry, Customer, Lead, Subscription, Ticket, paying_on
from lib.subqueries import aggregate_of
from metrics import catalogue, kpis
from metrics.models import CustomerDayFeature, UsageSession, UserDayActivity
from metrics.periods import Period
from surveys.models import SurveyResponse

FORMULA_VERSION = "1"

# The keys of each group, in the catalogue's order (metrics.catalogue holds every fact about a KPI).
REVENUE_KEYS = catalogue.keys_of(catalogue.REVENUE)
CONVERSION_KEYS = catalogue.keys_of(catalogue.CONVERSION)
VOICE_KEYS = catalogue.keys_of(catalogue.VOICE)
SUPPORT_KEYS = catalogue.keys_of(catalogue.SUPPORT)
USAGE_KEYS = catalogue.keys_of(catalogue.USAGE)
KPI_KEYS = catalogue.KPI_KEYS


@dataclass(frozen=True)
class Scope:
    """Which customers a KPI covers: the company, a segment, a CSM's portfolio or one customer.

    `viewer` (set by `seen_by`) narrows it further to the customers a user may see
    (accounts.policy): the rows behind a figure are read so; the figure never is.
    """

    customer_id: int | None = None
    segment: str | None = None
    csm: str | None = None
    viewer: Any = dataclasses.field(default=None, repr=False)

    def seen_by(self, user) -> "Scope":
        """This scope restricted, in every query, to the customers `user` may see."""
        return dataclasses.replace(self, viewer=user)

    @property
    def is_company(self) -> bool:
        return self.customer_id is None and self.segment is None and self.csm is None

    @property
    def label(self) -> str:
        if self.customer_id is not None:
            return f"customer:{self.customer_id}"
        if self.segment is not None:
            return f"segment:{self.segment}"
        if self.csm is not None:
            return f"csm:{self.csm}"
        return "company"

    @classmethod
    def from_label(cls, label: str) -> "Scope":
        kind, _, value = label.partition(":")
        if kind == "company" and not value:
            return cls()
        if kind == "customer" and value.isdigit():
            return cls(customer_id=int(value))
        if kind == "segment":
            return cls(segment=value)
        if kind == "csm" and value:
            return cls(csm=value)
        raise ValueError(f"unknown scope {label!r}")

    @property
    def _narrowed(self) -> bool:
        return self.viewer is not None and not policy.sees_all_customers(self.viewer)

    def customers(self):
        customers = policy.visible_customers(self.viewer) if self._narrowed else Customer.objects.all()
        if self.customer_id is not None:
            customers = customers.filter(pk=self.customer_id)
        if self.segment is not None:
            customers = customers.filter(segment=self.segment)
        if self.csm is not None:
            customers = customers.filter(Q(owner__username=self.csm) | Q(assigned_users__username=self.csm))
        return customers

    def restrict(self, queryset, field: str = "customer"):
        """Filter any queryset with a customer foreign key to this scope."""
        if self.is_company and not self._narrowed:
            return queryset
        return queryset.filter(**{f"{field}__in": self.customers().values("pk")})


def definition_version() -> str:
    """Return a version naming the formulas and every setting that changes a figure."""
    inputs = {
        "formulas": FORMULA_VERSION,
        "currency": settings.CSPLATFORM_REPORTING_CURRENCY,
        "tz": settings.CSPLATFORM_REPORTING_TZ,
        "gross_margin": str(settings.CSPLATFORM_GROSS_MARGIN),
        "onboarding": [list(settings.CSPLATFORM_ONBOARDING_STEPS), settings.CSPLATFORM_ONBOARDING_DAYS],
        "key_features": list(settings.CSPLATFORM_KEY_FEATURES),
        "session_gap": settings.CSPLATFORM_SESSION_GAP_MINUTES,
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:10]
    return f"{FORMULA_VERSION}-{digest}"


# --- Revenue ---------------------------------------------------------------------------


def mrr_by_customer(scope: Scope, day: datetime.date, customer_ids=None) -> dict[int, Decimal]:
    """Return {customer id: MRR} of the customers paying at the start of `day` (optionally only `customer_ids`)."""
    subscriptions = scope.restrict(Subscription.objects.paying_at(day))
    if customer_ids is not None:
        subscriptions = subscriptions.filter(customer_id__in=customer_ids)
    return subscriptions.mrr_by_customer()


def customers_paid_before(scope: Scope, day: datetime.date) -> set[int]:
    """Return the customers that paid at some time before `day`."""
    rows = scope.restrict(Subscription.objects.paying().filter(started_at__lt=day))
    return set(rows.values_list("customer_id", flat=True).order_by().distinct())


def new_paying_customers(scope: Scope, period: Period):
    """Customers whose first non-trial paying row starts in the period."""
    return (
        scope.restrict(Subscription.objects.paying())
        .values("customer_id")
        .annotate(first=Min("started_at"))
        .filter(first__gte=period.start, first__lt=period.end)
    )


def costs(period: Period, categories) -> Decimal:
    """Sum the cost entries of the categories whose month's first day lies in the period."""
    total = CostEntry.objects.filter(
        month__gte=period.start, month__lt=period.end, category__in=categories
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def revenue_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    opening = mrr_by_customer(scope, period.start)
    closing = mrr_by_customer(scope, period.end)
    at_start, at_end = set(opening), set(closing)
    movements = kpis.mrr_movements(opening, closing, customers_paid_before(scope, period.start))
    arpu = kpis.arpu(movements.closing, len(at_end))
    churn_by_month = []
    for month in period.whole_months():
        month_start = opening if month.start == period.start else mrr_by_customer(scope, month.start)
        month_end = closing if month.end == period.end else mrr_by_customer(scope, month.end)
        churn_by_month.append((len(set(month_start) - set(month_end)), len(month_start)))
    clv = kpis.clv(arpu, Decimal(settings.CSPLATFORM_GROSS_MARGIN), kpis.monthly_churn(churn_by_month))
    if scope.is_company:
        retention_cost = kpis.customer_retention_cost(costs(period, CostEntry.RETENTION), len(at_start & at_end))
        cac = kpis.cac(costs(period, CostEntry.ACQUISITION), new_paying_customers(scope, period).count())
    else:
        retention_cost = cac = kpis.Kpi(None, reason="costs are recorded for the whole company only")
    return {
        "customers": kpis.amount(len(at_end)),
        "logo_churn_rate": kpis.logo_churn_rate(at_start, at_end),
        "customer_retention_rate": kpis.customer_retention_rate(at_start, at_end),
        "mrr": kpis.amount(movements.closing),
        "mrr_opening": kpis.amount(movements.opening),
        "mrr_new": kpis.amount(movements.new),
        "mrr_reactivation": kpis.amount(movements.reactivation),
        "mrr_expansion": kpis.amount(movements.expansion),
        "mrr_contraction": kpis.amount(movements.contraction),
        "mrr_churn": kpis.amount(movements.churn),
        "arpu": arpu,
        "net_revenue_retention": kpis.net_revenue_retention(movements),
        "gross_revenue_retention": kpis.gross_revenue_retention(movements),
        "revenue_churn_rate": kpis.revenue_churn_rate(movements),
        "clv": clv,
        "customer_retention_cost": retention_cost,
        "cac": cac,
        "ltv_to_cac": kpis.ltv_to_cac(clv, cac),
    }


# --- Conversion ------------------------------------------------------------------------


def trial_cohort(scope: Scope, period: Period):
    """Customers whose first trial started in the period, with `converted` per the spec."""
    first_trial = aggregate_of(Subscription.objects.filter(is_trial=True), Min("started_at"))
    paid_after = Subscription.objects.paying().filter(
        customer=OuterRef("pk"), started_at__gte=OuterRef("first_trial"), started_at__lt=period.end
    )
    return (
        scope.customers()
        .annotate(first_trial=first_trial)
        .filter(first_trial__gte=period.start, first_trial__lt=period.end)
        .annotate(converted=Exists(paid_after))
    )


def lead_cohort(period: Period):
    """Leads created in the period, with `converted` when they converted before its end."""
    return Lead.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)


def onboarding_reached(scope: Scope, period: Period) -> tuple[list[int], int]:
    """Return (customers reaching steps 1..k for each k, customers created in the period)."""
    steps = list(settings.CSPLATFORM_ONBOARDING_STEPS)
    cohort = scope.customers().filter(created_on__gte=period.start, created_on__lt=period.end)
    created = dict(cohort.values_list("pk", "created_on"))
    if not steps:
        return [], len(created)
    window = datetime.timedelta(days=settings.CSPLATFORM_ONBOARDING_DAYS)
    first_use = (
        CustomerDayFeature.objects.filter(customer_id__in=list(created), event_type__in=steps)
        .filter(day__gte=F("customer__created_on"))
        .values("customer_id", "event_type")
        .annotate(first=Min("day"))
        .values_list("customer_id", "event_type", "first")
    )
    done = defaultdict(set)
    for customer_id, event_type, first in first_use:  # one row per customer and step
        if first < created[customer_id] + window:
            done[customer_id].add(event_type)
    reached = [sum(1 for did in done.values() if set(steps[: k + 1]) <= did) for k in range(len(steps))]
    return reached, len(created)


def conversion_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    cohort = trial_cohort(scope, period)
    completion, drop_off, steps = kpis.onboarding(*onboarding_reached(scope, period))
    step_names = list(settings.CSPLATFORM_ONBOARDING_STEPS)
    drop_off = kpis.Kpi(
        drop_off.value, drop_off.numerator, drop_off.denominator, drop_off.reason,
        extra={"steps": dict(zip(step_names, steps))},
    )  # fmt: skip
    if scope.is_company:
        leads = lead_cohort(period).aggregate(
            total=Count("pk"), converted=Count("pk", filter=Q(converted_at__lt=period.end_at))
        )
        conversion = kpis.conversion_rate(leads["converted"], leads["total"])
    else:
        conversion = kpis.Kpi(None, reason="leads belong to the whole company until they convert")
    return {
        "conversion_rate": conversion,
        "trial_conversion_rate": kpis.trial_conversion_rate(cohort.filter(converted=True).count(), cohort.count()),
        "onboarding_completion_rate": completion,
        "onboarding_drop_off": drop_off,
    }


# --- Voice of the customer and support -------------------------------------------------


def responses_in(scope: Scope, period: Period):
    return scope.restrict(
        SurveyResponse.objects.filter(responded_at__gte=period.start_at, responded_at__lt=period.end_at)
    )


def voice_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    counts = defaultdict(dict)
    rows = responses_in(scope, period).values("survey_type", "score").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts[row["survey_type"]][row["score"]] = row["n"]
    return {
        "nps": kpis.nps(counts["nps"]),
        "csat": kpis.csat(counts["csat"]),
        "ces": kpis.ces(counts["ces"]),
        "ces_average": kpis.ces_average(counts["ces"]),
    }


def tickets_resolved_in(scope: Scope, period: Period):
    return scope.restrict(Ticket.objects.filter(resolved_at__gte=period.start_at, resolved_at__lt=period.end_at))


def support_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    counted = tickets_resolved_in(scope, period).filter(contacts_count__isnull=False)
    totals = counted.aggregate(total=Count("pk"), first=Count("pk", filter=Q(contacts_count=1)))
    return {"first_contact_resolution_rate": kpis.first_contact_resolution_rate(totals["first"], totals["total"])}


# --- Usage -----------------------------------------------------------------------------


def usage_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return usage_kpis_for_periods(scope, [period])[0]


def usage_kpis_for_periods(scope: Scope, periods: list[Period]) -> list[dict[str, kpis.Kpi]]:
    """The usage KPIs of each period, with four queries however many periods (a filtered aggregate each)."""
    if not periods:
        return []
    first, last = min(p.start for p in periods), max(p.end for p in periods)
    days = scope.restrict(UserDayActivity.objects.filter(day__gte=first, day__lt=last))
    in_days = [Q(day__gte=p.start, day__lt=p.end) for p in periods]
    activity = days.aggregate(**{
        name: aggregate
        for i, within in enumerate(in_days)
        for name, aggregate in (
            (f"user_days_{i}", Count("pk", filter=within)),
            (f"events_{i}", Sum("events", filter=within)),
            (f"users_{i}", Count("contact_id", distinct=True, filter=within)),
        )
    })  # fmt: skip
    starts = [Q(started_at__gte=p.start_at, started_at__lt=p.end_at) for p in periods]
    sessions = scope.restrict(
        UsageSession.objects.filter(started_at__gte=min(p.start_at for p in periods), started_at__lt=max(p.end_at for p in periods))
    ).aggregate(**{
        name: aggregate
        for i, within in enumerate(starts)
        for name, aggregate in ((f"n_{i}", Count("pk", filter=within)), (f"total_us_{i}", Sum("duration_us", filter=within)))
    })  # fmt: skip
    features = scope.restrict(CustomerDayFeature.objects.filter(day__gte=first, day__lt=last))
    adopters = {f"n_{i}": Count("customer_id", distinct=True, filter=within) for i, within in enumerate(in_days)}
    by_feature = list(features.values("event_type").annotate(**adopters).order_by())
    active_customers = features.aggregate(**adopters)
    results = []
    for i, period in enumerate(periods):
        users, user_days = activity[f"users_{i}"], activity[f"user_days_{i}"]
        seconds = Decimal(sessions[f"total_us_{i}"] or 0) / Decimal(1_000_000)
        used = {row["event_type"]: row[f"n_{i}"] for row in by_feature if row[f"n_{i}"]}
        results.append({
            "mau": kpis.mau(users),
            "dau_average": kpis.dau_average(user_days, period.days),
            "dau_mau": kpis.dau_mau(user_days, period.days, users),
            "average_session_duration": kpis.average_session_duration(seconds, sessions[f"n_{i}"]),
            "events_per_active_user": kpis.events_per_active_user(activity[f"events_{i}"] or 0, users),
            "feature_adoption": kpis.feature_adoption(used, active_customers[f"n_{i}"]),
        })  # fmt: skip
    return results


def mrr_on_days(scope: Scope, days: list[datetime.date]) -> list[Decimal]:
    """The paying MRR of the scope at the start of each day, in one query."""
    sums = scope.restrict(Subscription.objects.filter(PAYING)).aggregate(
        **{f"d{i}": Sum("mrr", filter=paying_on(day)) for i, day in enumerate(days)}
    )
    return [sums[f"d{i}"] or Decimal(0) for i in range(len(days))]


GROUPS = (
    (REVENUE_KEYS, revenue_kpis),
    (CONVERSION_KEYS, conversion_kpis),
    (VOICE_KEYS, voice_kpis),
    (SUPPORT_KEYS, support_kpis),
    (USAGE_KEYS, usage_kpis),
)


def compute_kpis(scope: Scope, period: Period, keys=None) -> dict[str, kpis.Kpi]:
    """Compute the KPIs named in `keys` (default: all) for one scope and period."""
    wanted = list(keys or KPI_KEYS)
    unknown = [k for k in wanted if k not in KPI_KEYS]
    if unknown:
        raise ValueError(f"unknown KPI key(s): {', '.join(unknown)}")
    results = {}
    for group_keys, compute in GROUPS:
        if any(k in wanted for k in group_keys):
            results.update(compute(scope, period))
    return {k: results[k] for k in wanted}
