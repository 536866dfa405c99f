"""Reads for the CSM screens: portfolio rows, the account 360 page, team reports.

Every figure comes from the KPI engine (`metrics.selectors`, `metrics.health`,
`metrics.rows`); this module only chooses scopes and periods, scopes them to what the
user may see and gathers what a page shows with a fixed number of queries.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Count, Exists, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts import policy
from accounts.models import Customer, Subscription, Task, Ticket
from accounts.reporting_time import today  # the pages' "today", also for views and forms
from accounts.roles import CSM, MANAGER
from churn.selectors import risks_for_customers
from lib.subqueries import aggregate_of
from metrics import catalogue, kpis
from metrics.health import Component, Health, health_for_customers
from metrics.health_snapshots import scores_on
from metrics.models import HealthScore, UserDayActivity
from metrics.quality import scope_quality
from metrics.periods import Period, add_months, day_start
from metrics.rows import rows_for_user
from metrics.selectors import Scope, compute_kpis, mrr_by_customer
from surveys.models import SurveyResponse

MRR_CHANGE_DAYS = 30


# --- Who may do what --------------------------------------------------------------------


def csm_users():
    """Users who may own a portfolio: members of the CSM or manager group, and owners."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=(CSM, MANAGER)) | Q(owned_customers__isnull=False), is_active=True)
        .distinct()
        .order_by("username")
    )


def customer_for_user(user, customer_id) -> Customer:
    """Return the customer if `user` may see it (accounts.policy); raise Customer.DoesNotExist otherwise."""
    return policy.visible_customers(user).select_related("owner").get(pk=customer_id)


# --- Portfolio --------------------------------------------------------------------------


@dataclass
class PortfolioFilters:
    q: str = ""
    segment: str = ""
    status: str = ""  # "": all but former customers, "former" (churned: no row active now), "all"
    band: str = ""
    renewal_days: int | None = None
    csm: str = ""  # a username, or "" for everyone the user may see
    sort: str = "name"


SORT_KEYS = {
    "name": lambda r: r.customer.name.lower(),
    "health": lambda r: (r.health_score is None, r.health_score or 0),
    "mrr": lambda r: r.mrr,
    "mrr_change": lambda r: r.mrr_change,
    "renewal": lambda r: (r.renewal_on is None, r.renewal_on or datetime.date.max),
    "last_activity": lambda r: (r.last_activity_on is None, r.last_activity_on or datetime.date.min),
    "open_tickets": lambda r: r.open_tickets,
    "nps": lambda r: (r.latest_nps is None, r.latest_nps if r.latest_nps is not None else 0),
    "open_tasks": lambda r: r.open_tasks,
    "churn": lambda r: (r.churn_probability is not None, r.churn_probability or 0),  # riskiest first, unscored last
}


@dataclass
class PortfolioRow:
    customer: Customer
    health_score: Decimal | None
    band: str | None
    mrr: Decimal
    mrr_before: Decimal
    renewal_on: datetime.date | None
    last_activity_on: datetime.date | None
    open_tickets: int
    latest_nps: int | None
    open_tasks: int
    churn_probability: float | None = None  # by the published churn model; None: not paying, or no model

    @property
    def mrr_change(self) -> Decimal:
        return self.mrr - self.mrr_before

    @property
    def mrr_at_risk(self) -> Decimal | None:
        return None if self.churn_probability is None else self.mrr * Decimal(str(self.churn_probability))


def portfolio_scope(user, csm: str = "") -> Scope:
    """The KPI scope of the portfolio shown: the user's own, a chosen CSM's, or the company."""
    if policy.sees_all_customers(user):
        return Scope(csm=csm) if csm else Scope()
    return Scope(csm=user.get_username())


def portfolio_customers(user, filters: PortfolioFilters, at: datetime.date):
    """The annotated customers of the portfolio, before health filtering and sorting."""
    customers = policy.visible_customers(user)
    if filters.csm and policy.sees_all_customers(user):
        customers = customers.filter(Q(owner__username=filters.csm) | Q(assigned_users__username=filters.csm))
    if filters.q:
        customers = customers.filter(Q(name__icontains=filters.q) | Q(external_id__icontains=filters.q))
    if filters.segment:
        customers = customers.filter(segment=filters.segment)
    last_activity = aggregate_of(UserDayActivity.objects.filter(day__lt=at + datetime.timedelta(days=1)), Max("day"))
    open_tickets = aggregate_of(Ticket.objects.filter(resolved_at__isnull=True), Count("pk"), output_field=IntegerField())
    latest_nps = (
        SurveyResponse.objects.filter(customer=OuterRef("pk"), survey_type="nps")
        .order_by("-responded_at", "-pk")
        .values("score")[:1]
    )
    open_tasks = aggregate_of(Task.objects.filter(completed_at__isnull=True), Count("pk"), output_field=IntegerField())
    customers = customers.annotate(
        last_activity_on=last_activity,
        open_tickets=Coalesce(open_tickets, 0),
        latest_nps=Subquery(latest_nps),
        open_tasks=Coalesce(open_tasks, 0),
    )
    if filters.status != "all":
        # Former customers: they had subscriptions and none is active now (churned, not reactivated).
        subscribed = Exists(Subscription.objects.filter(customer=OuterRef("pk"), started_at__lte=at))
        current = Exists(Subscription.objects.active_at(at).filter(customer=OuterRef("pk")))
        former = Q(subscribed) & ~Q(current)
        customers = customers.filter(former if filters.status == "former" else ~former)
    return customers.select_related("owner").order_by("name", "pk")


def portfolio_rows(user, filters: PortfolioFilters, at: datetime.date | None = None) -> list[PortfolioRow]:
    """Return one row per customer of the portfolio, filtered and sorted; a fixed number of queries."""
    at = at or today()
    customers = list(portfolio_customers(user, filters, at))
    ids = [c.pk for c in customers]
    health = health_for_customers(ids, at) if ids else {}
    scope = portfolio_scope(user, filters.csm)
    mrr_now = mrr_by_customer(scope, at) if ids else {}
    mrr_before = mrr_by_customer(scope, at - datetime.timedelta(days=MRR_CHANGE_DAYS)) if ids else {}
    risks = risks_for_customers(ids, at) if ids else {}
    # Renewals: an end date, else derived from start and billing period (Subscription.renewal_on).
    renewals = Subscription.objects.active_at(at).filter(customer_id__in=ids).renewals_by_customer(at) if ids else {}
    rows = []
    for c in customers:  # customers of one portfolio, every input already fetched
        h = health.get(c.pk)
        rows.append(
            PortfolioRow(
                customer=c,
                health_score=h.score if h else None,
                band=h.band if h else None,
                mrr=mrr_now.get(c.pk, Decimal(0)),
                mrr_before=mrr_before.get(c.pk, Decimal(0)),
                renewal_on=renewals.get(c.pk),
                last_activity_on=c.last_activity_on,
                open_tickets=c.open_tickets,
                latest_nps=c.latest_nps,
                open_tasks=c.open_tasks,
                churn_probability=risks[c.pk].probability if c.pk in risks else None,
            )
        )
    if filters.renewal_days is not None:
        until = at + datetime.timedelta(days=filters.renewal_days)
        rows = [r for r in rows if r.renewal_on is not None and r.renewal_on < until]
    if filters.band == "none":
        rows = [r for r in rows if r.band is None]
    elif filters.band:
        rows = [r for r in rows if r.band == filters.band]
    key = filters.sort.lstrip("-")
    rows.sort(key=SORT_KEYS.get(key, SORT_KEYS["name"]), reverse=filters.sort.startswith("-"))
    return rows


def portfolio_segments(user) -> list[str]:
    return list(
        policy.visible_customers(user)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )


def band_counts(rows) -> dict[str, int]:
    counts = {band: 0 for band in kpis.HEALTH_BANDS}
    for row in rows:
        if row.band in counts:
            counts[row.band] += 1
    return counts


# --- Account 360 ------------------------------------------------------------------------

ACCOUNT_KPI_KEYS = (
    "mau", "dau_mau", "average_session_duration", "events_per_active_user",
    "first_contact_resolution_rate", "nps", "csat", "ces",
)  # fmt: skip
CHART_MONTHS = 12


@dataclass
class TimelineEntry:
    at: datetime.datetime
    kind: str  # note, task, ticket, response
    title: str
    body: str = ""
    obj: object = None
    done: bool = False  # a task completed by then
    open: bool = False  # a ticket still open then


@dataclass
class Account:
    customer: Customer
    at: datetime.date
    health: object
    mrr: Decimal
    renewal_on: datetime.date | None
    customer_since: datetime.date | None
    plans: list[str]
    kpis: dict
    kpi_period: Period
    mrr_series: list[tuple[datetime.date, Decimal]]
    activity_series: list[tuple[Period, dict]]
    subscriptions: list
    tickets: list
    responses: list
    tasks: list
    notes: list
    past: bool = False  # a read-only view of the customer as of `at`, before today
    open_tickets: int = 0
    health_source: str = "computed"  # or "snapshot": the stored daily score of a published version
    extra: dict = field(default_factory=dict)

    @property
    def before_start(self) -> bool:
        """A day before the customer signed up (or started paying): there is nothing to score yet."""
        return self.customer_since is None or self.at < self.customer_since


def last_months(at: datetime.date, months: int = CHART_MONTHS) -> list[Period]:
    """The `months` whole calendar months before the month of `at`, oldest first."""
    first = add_months(at.replace(day=1), -months)
    return [Period(add_months(first, i), add_months(first, i + 1)) for i in range(months)]


def _until(at: datetime.date | None) -> datetime.datetime | None:
    """The instant a past view ends (the start of day `at`), or None for today's view: everything."""
    return day_start(at) if at is not None else None


def _flag(condition: Q) -> Case:
    """A boolean annotation: whether a row meets `condition`."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def account_tickets(customer, at: datetime.date | None = None):
    """Tickets opened before `at`, each with `open_then`: unresolved at the start of `at` (half-open)."""
    tickets = customer.tickets.all()
    still_open = Q(resolved_at__isnull=True)
    if at is not None:
        tickets = tickets.filter(opened_at__lt=_until(at))
        still_open |= Q(resolved_at__gte=_until(at))
    return tickets.annotate(open_then=_flag(still_open))


def account_tasks(customer, at: datetime.date | None = None):
    """Tasks (created before `at`), each with `done_then`: completed by the start of `at`."""
    tasks = customer.tasks.select_related("assignee")
    done = Q(completed_at__isnull=False)
    if at is not None:
        tasks = tasks.filter(created_at__lt=_until(at))
        done &= Q(completed_at__lt=_until(at))
    tasks = tasks.annotate(done_then=_flag(done))
    return list(tasks.order_by("done_then", "completed_at", "due_on", "-created_at")[:50])


def account_notes(customer, at: datetime.date | None = None):
    notes = customer.notes.select_related("author")
    if at is not None:
        notes = notes.filter(created_at__lt=_until(at))
    return list(notes[:50])


def account_responses(customer, at: datetime.date | None = None):
    """Survey responses before `at`, latest first."""
    responses = customer.survey_responses.select_related("contact")
    if at is not None:
        responses = responses.filter(responded_at__lt=_until(at))
    return responses.order_by("-responded_at", "-pk")


def account_timeline(customer, limit: int = 40, at: datetime.date | None = None) -> list[TimelineEntry]:
    """Notes, tasks, tickets and survey responses (before `at`, as they were then), newest first."""
    entries = []
    for note in account_notes(customer, at)[:limit]:
        author = (note.author.get_full_name() or note.author.get_username()) if note.author else ""
        entries.append(TimelineEntry(note.created_at, "note", author, note.body, note))
    tasks = customer.tasks.select_related("assignee").order_by("-created_at")
    if at is not None:
        tasks = tasks.filter(created_at__lt=_until(at))
    for task in tasks[:limit]:
        done = task.completed_at is not None and (at is None or task.completed_at < _until(at))
        when = task.completed_at if done else task.created_at
        entries.append(TimelineEntry(when, "task", task.title, task.details, task, done=done))
    for ticket in account_tickets(customer, at)[:limit]:
        entries.append(TimelineEntry(ticket.opened_at, "ticket", ticket.subject or ticket.external_id, "", ticket,
                                     open=ticket.open_then))  # fmt: skip
    for response in account_responses(customer, at)[:limit]:
        entries.append(
            TimelineEntry(
                response.responded_at, "response", response.get_survey_type_display(), response.comment, response
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def health_from_snapshot(row: HealthScore) -> Health:
    """A stored daily score shaped like a computed one (components with their inputs)."""

    def dec(value):
        return None if value in (None, "") else Decimal(str(value))

    components = {
        name: Component(dec(c.get("score")), dec(c.get("weight")) or Decimal(0), c.get("inputs") or {})
        for name, c in (row.components or {}).items()
    }
    return Health(row.customer_id, row.day, row.score, row.band or None, components)


def account_health(customer: Customer, at: datetime.date, past: bool) -> tuple[Health, str]:
    """The health at the start of `at`: in a past view the stored snapshot when there is one, else computed."""
    if past:
        row = scores_on([customer.pk], at).get(customer.pk)
        if row is not None:
            return health_from_snapshot(row), "snapshot"
    return health_for_customers([customer.pk], at)[customer.pk], "computed"


def account_360(customer: Customer, at: datetime.date | None = None) -> Account:
    """Gather the account page as of the start of `at` (default today); the query count does not
    grow with the customer's history. A day before today is a past view: only what had happened by then."""
    current = today()
    at = at or current
    past = at < current
    until = at if past else None
    scope = Scope(customer_id=customer.pk)
    kpi_period = Period(at - datetime.timedelta(days=30), at)
    subscriptions = list(customer.subscriptions.select_related("end_reason").order_by("-started_at", "plan"))
    active = [s for s in subscriptions if s.is_active_on(at)]
    renewals = sorted(s.ended_at for s in active if s.ended_at is not None)
    first_paid = min((s.started_at for s in subscriptions), default=None)
    months = last_months(at)
    month_starts = [m.start for m in months] + [at]
    mrr_series = [(day, mrr_by_customer(scope, day).get(customer.pk, Decimal(0))) for day in month_starts]
    activity_series = [(m, compute_kpis(scope, m, ["mau", "events_per_active_user"])) for m in months]
    customer_since = customer.created_on or first_paid
    if customer_since is None or at < customer_since:
        health, health_source = Health(customer.pk, at, None, None, {}), "none"  # not a customer yet: no "At risk · 0"
    else:
        health, health_source = account_health(customer, at, past)
    tickets = list(account_tickets(customer, until).select_related("contact")[:25])
    return Account(
        customer=customer,
        at=at,
        health=health,
        mrr=mrr_series[-1][1],
        renewal_on=renewals[0] if renewals else None,
        customer_since=customer_since,
        plans=sorted({s.plan for s in active}),
        kpis=compute_kpis(scope, kpi_period, ACCOUNT_KPI_KEYS),
        kpi_period=kpi_period,
        mrr_series=mrr_series,
        activity_series=activity_series,
        subscriptions=[s for s in subscriptions if s.started_at <= at],  # rows that had started by then
        tickets=tickets,
        responses=list(account_responses(customer, until)[:25]),
        tasks=account_tasks(customer, until),
        notes=account_notes(customer, until),
        past=past,
        open_tickets=account_tickets(customer, until).filter(open_then=True).count(),
        health_source=health_source,
    )


# --- Tasks ------------------------------------------------------------------------------


def tasks_for_user(user, show: str = "open"):
    tasks = Task.objects.filter(assignee=user).select_related("customer")
    if show == "open":
        tasks = tasks.filter(completed_at__isnull=True)
    elif show == "done":
        tasks = tasks.filter(completed_at__isnull=False).order_by("-completed_at")
    return tasks


# --- Reports ----------------------------------------------------------------------------

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
        comparison = [
            (u, compute_kpis(Scope(csm=u.get_username()), period, COMPARISON_KEYS))
            for u in csm_users().filter(Q(owned_customers__isnull=False) | Q(assigned_customers__isnull=False))
        ]
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

# --- Renewals, cohorts, churn reasons -----------------------------------------------------


def visible_customer_ids(user, ids) -> set[int]:
    """The ids among `ids` of customers `user` may see."""
    return set(policy.visible_customers(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def open_task_counts(ids) -> dict[int, int]:
    """{customer: open tasks} of the customers in `ids`."""
    rows = Task.objects.filter(customer_id__in=list(ids), completed_at__isnull=True).values("customer_id")
    return {r["customer_id"]: r["n"] for r in rows.annotate(n=Count("pk")).order_by()}


def account_contacts(customer, limit: int = 100) -> list:
    """The customer's contacts (the product's users), named ones first."""
    return list(customer.contacts.order_by("name", "email", "external_id")[:limit])
