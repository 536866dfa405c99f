"""Inputs of the KPI formulas, read from the database with aggregates.

Each `*_kpis` function answers one group of KPIs for a scope and period with a few
aggregate queries (usage from the rollups, never the raw events: `metrics.usage`);
`compute_kpis` feeds them to the pure formulas in `metrics.kpis`.
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
from metrics.models import CustomerDayFeature
from metrics.periods import Period
from metrics.usage import usage_counts_for_periods
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


@dataclass(frozen=True)
class RevenueInputs:
    """What the revenue KPIs read, per customer: MRR at the period's edges and at each whole month's edges."""

    opening: dict[int, Decimal]
    closing: dict[int, Decimal]
    paid_before: set[int]
    months: list[tuple[dict[int, Decimal], dict[int, Decimal]]]  # (MRR at start, MRR at end) per whole month

    def of(self, ids) -> "RevenueInputs":
        """These inputs narrowed to the customers `ids` (in time proportional to len(ids))."""
        ids = list(ids)

        def pick(mrr):
            return {c: mrr[c] for c in ids if c in mrr}

        return RevenueInputs(
            pick(self.opening), pick(self.closing), {c for c in ids if c in self.paid_before},
            [(pick(start), pick(end)) for start, end in self.months],
        )  # fmt: skip


@dataclass(frozen=True)
class CompanyCosts:
    """The company-wide inputs of the cost KPIs (costs are recorded for the whole company only)."""

    retention: Decimal
    acquisition: Decimal
    new_customers: int


def revenue_inputs(scope: Scope, period: Period) -> RevenueInputs:
    """Read the revenue inputs of every customer of the scope (one query per distinct day, one for paid-before)."""
    mrr_on = {}

    def mrr(day):
        if day not in mrr_on:
            mrr_on[day] = mrr_by_customer(scope, day)
        return mrr_on[day]

    opening, closing = mrr(period.start), mrr(period.end)
    months = [(mrr(month.start), mrr(month.end)) for month in period.whole_months()]
    return RevenueInputs(opening, closing, customers_paid_before(scope, period.start), months)


def company_costs(scope: Scope, period: Period) -> CompanyCosts:
    return CompanyCosts(
        costs(period, CostEntry.RETENTION), costs(period, CostEntry.ACQUISITION), new_paying_customers(scope, period).count()
    )


def revenue_from(inputs: RevenueInputs, company: CompanyCosts | None) -> dict[str, kpis.Kpi]:
    """The revenue KPIs of these inputs; `company` holds the costs for the company scope, None elsewhere."""
    opening, closing = inputs.opening, inputs.closing
    at_start, at_end = set(opening), set(closing)
    movements = kpis.mrr_movements(opening, closing, inputs.paid_before)
    arpu = kpis.arpu(movements.closing, len(at_end))
    churn_by_month = [(len(set(start) - set(end)), len(start)) for start, end in inputs.months]
    clv = kpis.clv(arpu, Decimal(settings.CSPLATFORM_GROSS_MARGIN), kpis.monthly_churn(churn_by_month))
    if company is not None:
        retention_cost = kpis.customer_retention_cost(company.retention, len(at_start & at_end))
        cac = kpis.cac(company.acquisition, company.new_customers)
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


def revenue_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return revenue_from(revenue_inputs(scope, period), company_costs(scope, period) if scope.is_company else None)


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


@dataclass(frozen=True)
class ConversionInputs:
    """What the conversion KPIs read, per customer: first trials, sign-ups and onboarding steps of the period."""

    trials: dict[int, bool]  # customers whose first trial started in the period: converted?
    created: set[int]  # customers created in the period
    done: dict[int, set[str]]  # of those, the onboarding steps each did within the window

    def of(self, ids) -> "ConversionInputs":
        ids = list(ids)
        return ConversionInputs(
            {c: self.trials[c] for c in ids if c in self.trials},
            {c for c in ids if c in self.created},
            {c: self.done[c] for c in ids if c in self.done},
        )


def onboarding_done(scope: Scope, period: Period) -> tuple[set[int], dict[int, set[str]]]:
    """Return (customers created in the period, {customer: onboarding steps done within the window})."""
    steps = list(settings.CSPLATFORM_ONBOARDING_STEPS)
    cohort = scope.customers().filter(created_on__gte=period.start, created_on__lt=period.end)
    created = dict(cohort.values_list("pk", "created_on"))
    if not steps:
        return set(created), {}
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
    return set(created), dict(done)


def onboarding_reached(created: set[int], done: dict[int, set[str]]) -> tuple[list[int], int]:
    """Return (customers reaching steps 1..k for each k, customers created in the period)."""
    steps = list(settings.CSPLATFORM_ONBOARDING_STEPS)
    reached = [sum(1 for did in done.values() if set(steps[: k + 1]) <= did) for k in range(len(steps))]
    return reached, len(created)


def conversion_inputs(scope: Scope, period: Period) -> ConversionInputs:
    # a dict: a CSM both owner and assigned would otherwise come twice out of the scope's join
    trials = dict(trial_cohort(scope, period).values_list("pk", "converted"))
    return ConversionInputs(trials, *onboarding_done(scope, period))


def lead_counts(period: Period) -> tuple[int, int]:
    """Return (leads created in the period that converted before its end, leads created in it)."""
    leads = lead_cohort(period).aggregate(total=Count("pk"), converted=Count("pk", filter=Q(converted_at__lt=period.end_at)))
    return leads["converted"], leads["total"]


def conversion_from(inputs: ConversionInputs, leads: tuple[int, int] | None) -> dict[str, kpis.Kpi]:
    """The conversion KPIs of these inputs; `leads` (converted, created) for the company scope, None elsewhere."""
    completion, drop_off, steps = kpis.onboarding(*onboarding_reached(inputs.created, inputs.done))
    step_names = list(settings.CSPLATFORM_ONBOARDING_STEPS)
    drop_off = kpis.Kpi(
        drop_off.value, drop_off.numerator, drop_off.denominator, drop_off.reason,
        extra={"steps": dict(zip(step_names, steps))},
    )  # fmt: skip
    if leads is not None:
        conversion = kpis.conversion_rate(*leads)
    else:
        conversion = kpis.Kpi(None, reason="leads belong to the whole company until they convert")
    converted = sum(1 for did in inputs.trials.values() if did)
    return {
        "conversion_rate": conversion,
        "trial_conversion_rate": kpis.trial_conversion_rate(converted, len(inputs.trials)),
        "onboarding_completion_rate": completion,
        "onboarding_drop_off": drop_off,
    }


def conversion_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return conversion_from(conversion_inputs(scope, period), lead_counts(period) if scope.is_company else None)


# --- Voice of the customer and support -------------------------------------------------
#
# These inputs are counts that add up over customers: with `by="customer_id"` the same query
# answers per customer (metrics.grouped adds them up per scope).


def responses_in(scope: Scope, period: Period):
    return scope.restrict(
        SurveyResponse.objects.filter(responded_at__gte=period.start_at, responded_at__lt=period.end_at)
    )


def voice_counts(scope: Scope, period: Period, by: str | None = None):
    """Return {survey type: {score: responses}} of the scope, or {`by` value: that} with `by`."""
    fields = [by] if by else []
    rows = responses_in(scope, period).values(*fields, "survey_type", "score").annotate(n=Count("pk")).order_by()
    counts = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        counts[row[by] if by else None][row["survey_type"]][row["score"]] = row["n"]
    return dict(counts) if by else counts[None]


def voice_from(counts) -> dict[str, kpis.Kpi]:
    """The voice KPIs of {survey type: {score: responses}}."""
    return {
        "nps": kpis.nps(counts.get("nps", {})),
        "csat": kpis.csat(counts.get("csat", {})),
        "ces": kpis.ces(counts.get("ces", {})),
        "ces_average": kpis.ces_average(counts.get("ces", {})),
    }


def voice_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return voice_from(voice_counts(scope, period))


def tickets_resolved_in(scope: Scope, period: Period):
    return scope.restrict(Ticket.objects.filter(resolved_at__gte=period.start_at, resolved_at__lt=period.end_at))


def _totals(queryset, aggregates: dict, by: str | None):
    """`queryset.aggregate(**aggregates)`, or {`by` value: those totals} with `by` (one GROUP BY query)."""
    if not by:
        return queryset.aggregate(**aggregates)
    return {row.pop(by): row for row in queryset.values(by).annotate(**aggregates).order_by()}


def support_counts(scope: Scope, period: Period, by: str | None = None) -> dict:
    """Return {"total", "first"}: resolved tickets with a known contact count, and those solved at first contact."""
    counted = tickets_resolved_in(scope, period).filter(contacts_count__isnull=False)
    return _totals(counted, {"total": Count("pk"), "first": Count("pk", filter=Q(contacts_count=1))}, by)


def support_from(counts: dict) -> dict[str, kpis.Kpi]:
    return {"first_contact_resolution_rate": kpis.first_contact_resolution_rate(counts["first"], counts["total"])}


def support_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return support_from(support_counts(scope, period))


# --- Usage -----------------------------------------------------------------------------


def usage_kpis(scope: Scope, period: Period) -> dict[str, kpis.Kpi]:
    return usage_kpis_for_periods(scope, [period])[0]


def usage_from(counts: dict, period: Period) -> dict[str, kpis.Kpi]:
    """The usage KPIs of the usage inputs of `period` (see usage_counts_for_periods)."""
    users, user_days = counts["users"], counts["user_days"]
    seconds = Decimal(counts["session_us"]) / Decimal(1_000_000)
    return {
        "mau": kpis.mau(users),
        "dau_average": kpis.dau_average(user_days, period.days),
        "dau_mau": kpis.dau_mau(user_days, period.days, users),
        "average_session_duration": kpis.average_session_duration(seconds, counts["sessions"]),
        "events_per_active_user": kpis.events_per_active_user(counts["events"], users),
        "feature_adoption": kpis.feature_adoption(counts["adopters"], counts["active_customers"]),
    }


def usage_kpis_for_periods(scope: Scope, periods: list[Period]) -> list[dict[str, kpis.Kpi]]:
    """The usage KPIs of each period, with three to seven queries however many periods (metrics.usage)."""
    return [usage_from(counts, period) for counts, period in zip(usage_counts_for_periods(scope, periods), periods)]


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
