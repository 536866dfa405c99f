"""Reads for the CSM screens: portfolio rows, the account 360 page, team reports.

Every figure comes from the KPI engine (`metrics.selectors`, `metrics.health`,
`metrics.rows`); this module only chooses scopes and periods, scopes them to what the
user may see and gathers what a page shows with a fixed number of queries.
"""

import datetime
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import (
    BooleanField, Case, Count, DecimalField, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value, When,
)  # fmt: skip
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext as _

from accounts import policy
from accounts.models import Customer, Subscription, Task, Ticket
from accounts.reporting_time import today  # the pages' "today", also for views and forms
from accounts.roles import CSM, MANAGER
from churn.selectors import day_risks, day_risks_fill, published_model
from lib.subqueries import aggregate_of
from metrics import catalogue, cohorts, kpis, losses
from metrics.health import Component, Health, health_for_customers
from metrics.health_snapshots import MRR_CHANGE_DAYS, day_score, day_scores, day_scores_fill, scores_on
from metrics.models import HealthScore, UserDayActivity
from metrics.losses import MonthLosses
from metrics.quality import scope_quality
from metrics.periods import Period, add_months, day_start
from metrics.rows import rows_for_user
from metrics.grouped import kpis_of_scopes
from metrics.selectors import Scope, compute_kpis, mrr_on_days, usage_kpis_for_periods
from surveys.models import SurveyResponse



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


@dataclass
class Portfolio:
    """A portfolio as the page shows it: the totals of every customer matching the filters, and
    the customers' stored rows of the day as a sorted queryset (`rows_of` builds the rows of a slice)."""

    at: datetime.date
    customers: object  # QuerySet[HealthScore]: the counting rows of the day, filtered, annotated with the sort keys, sorted
    total: int
    bands: dict[str, int]
    mrr_total: Decimal
    mrr_at_risk: Decimal
    churn_model: object = None
    ordered_ids: list[int] | None = None  # the order when the database cannot sort (by renewal)
    sort: str = "name"

    def ids(self):
        """The customers' ids in the page order (a list, or a queryset of them)."""
        if self.ordered_ids is not None:
            return self.ordered_ids
        return self.customers.values_list("customer_id", flat=True)

    def keyed(self, start: int, stop: int) -> list[tuple[int, str]]:
        """(customer id, cursor) of the rows [start, stop) in the page order (an OFFSET): the cursor of
        a row starts the page after it (`seek`)."""
        aliases = [alias for alias, _d, _n in _keys(self.sort)]
        rows = self.customers.values_list("customer_id", *aliases)[start:stop]
        return [(row[0], _cursor(self.sort, row[1:])) for row in rows]

    def seek(self, cursor: str, size: int, *, before: bool = False) -> list[tuple[int, str]] | None:
        """The (up to `size` + 1) rows after the row of `cursor` (before it, `before`), in the page order:
        keyset pagination, an index range instead of an OFFSET that grows with the page number.
        None when the cursor is not one of this sort's (an edited link): the caller starts over."""
        keys, values = _keys(self.sort), _uncursor(self.sort, cursor)
        if values is None or self.ordered_ids is not None:
            return None
        rows = self.customers.filter(_beyond(keys, values, reverse=before))
        bound = _bound(keys[0], values[0], reverse=before)
        if bound is not None:
            rows = rows.filter(bound)
        if before:
            rows = rows.reverse()
        aliases = [alias for alias, _d, _n in keys]
        found = [(row[0], _cursor(self.sort, row[1:])) for row in rows.values_list("customer_id", *aliases)[: size + 1]]
        return found[::-1] if before else found


def portfolio_scope(user, csm: str = "") -> Scope:
    """The KPI scope of the portfolio shown: the user's own, a chosen CSM's, or the company."""
    if policy.sees_all_customers(user):
        return Scope(csm=csm) if csm else Scope()
    return Scope(csm=user.get_username())


def _portfolio_base(user, filters: PortfolioFilters, at: datetime.date):
    """The customers matching every filter but the status and the health band (those are read from the
    day's stored rows), without duplicates and unannotated."""
    customers = policy.visible_customers(user)
    if filters.csm and policy.sees_all_customers(user):
        customers = customers.filter(pk__in=Scope(csm=filters.csm).customers().values("pk"))
    if filters.q:
        customers = customers.filter(Q(name__icontains=filters.q) | Q(external_id__icontains=filters.q))
    if filters.segment:
        customers = customers.filter(segment=filters.segment)
    if filters.renewal_days is not None:
        until = at + datetime.timedelta(days=filters.renewal_days)
        customers = customers.filter(pk__in=[cid for cid, on in _renewals(customers, at).items() if on < until])
    return customers


def _renewals(customers, at: datetime.date) -> dict[int, datetime.date]:
    """Each customer's next renewal on or after `at` (`accounts.models.renewal_on`: an end date, else the next
    billing-period boundary). Month arithmetic per subscription in Python: the renewal filter and sort read
    every active subscription of the portfolio; a page reads its 25 customers'."""
    return Subscription.objects.active_at(at).filter(customer__in=customers.values("pk")).renewals_by_customer(at)


def _renewal_order(customers, at: datetime.date, descending: bool) -> list[int]:
    """The customers' ids by next renewal (none last; "-renewal" reverses), ties by name."""
    renewals = _renewals(customers, at)
    ids = [pk for pk, _name in sorted(customers.values_list("pk", "name"), key=lambda r: (r[1].lower(), r[1], r[0]))]
    key = lambda pk: (pk not in renewals, renewals.get(pk) or datetime.date.max)  # noqa: E731
    return sorted(ids, key=key, reverse=descending)


_NO_PROBABILITY = Value(None, output_field=DecimalField())


def _paying_mrr(day: datetime.date):
    return Coalesce(aggregate_of(Subscription.objects.paying_at(day), Sum("mrr")), Value(Decimal(0)))


# Sort keys: the database's ORDER BY of each, ties by name; missing values last, but churn
# (unscored last when sorted riskiest first, the column's default). MRR, its change and the
# health score are stored with the day's score (an index per order); the others are evaluated
# for every customer of the filtered portfolio (one index lookup each).
SORTS = {
    "name": ("k_name_lower", False),
    "health": ("score", False),
    "mrr": ("mrr", False),
    "mrr_change": ("k_mrr_change", False),
    "last_activity": ("k_last_activity_on", False),
    "open_tickets": ("k_open_tickets", False),
    "nps": ("k_latest_nps", False),
    "open_tasks": ("k_open_tasks", False),
    "churn": ("k_churn_probability", True),  # missing first ascending, so last in "-churn"
}
_TIES = [("k_name_lower", False, False), ("k_name", False, False), ("customer_id", False, False)]


def _keys(sort: str) -> list[tuple[str, bool, bool]]:
    """The page order as (alias, descending, nulls first): the sort key, then the name and the id."""
    name = sort.lstrip("-")
    field_name, missing_first = SORTS.get(name, SORTS["name"])
    descending = sort.startswith("-") and name in SORTS
    ties = _TIES[1:] if field_name == "k_name_lower" else _TIES
    return [(field_name, descending, descending != missing_first), *ties]


def _ordering(sort: str) -> list:
    return [
        F(alias).desc(nulls_first=nulls_first or None, nulls_last=not nulls_first or None) if descending
        else F(alias).asc(nulls_first=nulls_first or None, nulls_last=not nulls_first or None)
        for alias, descending, nulls_first in _keys(sort)
    ]  # fmt: skip


def _sort_keys(rows, sort: str, at: datetime.date, model):
    """Annotate the day's rows with the page order's keys (the names, and the sort's own figure)."""
    rows = rows.annotate(k_name_lower=Lower("customer__name"), k_name=F("customer__name"))
    name = sort.lstrip("-")
    customer = OuterRef("customer_id")
    if name == "mrr_change":
        rows = rows.annotate(k_mrr_change=F("mrr") - F("mrr_before"))
    elif name == "last_activity":
        rows = rows.annotate(k_last_activity_on=Subquery(
            UserDayActivity.objects.filter(customer=customer, day__lt=at + datetime.timedelta(days=1))
            .order_by("-day").values("day")[:1]
        ))  # fmt: skip
    elif name == "open_tickets":
        open_tickets = Ticket.objects.filter(customer=customer, resolved_at__isnull=True).order_by().values("customer")
        rows = rows.annotate(k_open_tickets=Coalesce(Subquery(open_tickets.annotate(n=Count("pk")).values("n")), 0))
    elif name == "nps":
        rows = rows.annotate(k_latest_nps=Subquery(
            SurveyResponse.objects.filter(customer=customer, survey_type="nps").order_by("-responded_at", "-pk")
            .values("score")[:1]
        ))  # fmt: skip
    elif name == "open_tasks":
        open_tasks = Task.objects.filter(customer=customer, completed_at__isnull=True).order_by().values("customer")
        rows = rows.annotate(k_open_tasks=Coalesce(Subquery(open_tasks.annotate(n=Count("pk")).values("n")), 0))
    elif name == "churn":
        risk = day_risks(at, model).filter(customer=customer).values("probability")[:1] if model is not None else None
        rows = rows.annotate(k_churn_probability=Subquery(risk) if risk is not None else _NO_PROBABILITY)
    return rows.order_by(*_ordering(sort))


def _beyond(keys, values, *, reverse: bool = False) -> Q:
    """The rows strictly after `values` in the order `keys` (before them, `reverse`): (k1 > v1) or
    (k1 = v1 and k2 > v2) or …, with missing values where the order puts them."""
    found, same = Q(pk__in=[]), Q()
    for (alias, descending, nulls_first), value in zip(keys, values, strict=True):
        if reverse:
            descending, nulls_first = not descending, not nulls_first
        if value is None:
            after = Q(**{f"{alias}__isnull": False}) if nulls_first else None
            equal = Q(**{f"{alias}__isnull": True})
        else:
            after = Q(**{f"{alias}__{'lt' if descending else 'gt'}": value})
            if not nulls_first:
                after |= Q(**{f"{alias}__isnull": True})
            equal = Q(**{alias: value})
        if after is not None:
            found |= same & after
        same &= equal
    return found


def _bound(key, value, *, reverse: bool = False) -> Q | None:
    """A range on the first key alone that `_beyond` implies, so the database starts its index scan there
    (only for keys never missing: a missing value would need an OR the index cannot serve)."""
    alias, descending, _nulls_first = key
    if value is None or alias not in _NOT_NULL:
        return None
    return Q(**{f"{alias}__{'gte' if descending == reverse else 'lte'}": value})


_NOT_NULL = {"k_name_lower", "k_name", "customer_id", "mrr", "k_mrr_change"}


def _cursor(sort: str, values) -> str:
    """The page order's key values of one row as a URL-safe string (the sort's name first)."""
    plain = [v.isoformat() if isinstance(v, datetime.date) else str(v) if isinstance(v, Decimal) else v for v in values]
    return urlsafe_b64encode(json.dumps([sort, *plain], separators=(",", ":")).encode()).decode().rstrip("=")


def _uncursor(sort: str, cursor: str) -> list | None:
    """The key values of a cursor of `sort`, or None if it is not one (edited, or of another sort)."""
    try:
        decoded = json.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        return None
    keys = _keys(sort)
    if not isinstance(decoded, list) or len(decoded) != len(keys) + 1 or decoded[0] != sort:
        return None
    values = decoded[1:]
    if not all(v is None or isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        return None
    if not isinstance(values[-1], int):
        return None
    try:  # typed as the key is, so the database compares numbers as numbers and dates as dates
        return [_typed(alias, v) for (alias, _d, _n), v in zip(keys, values, strict=True)]
    except (ArithmeticError, ValueError, TypeError):
        return None


_DECIMAL_KEYS = {"mrr", "score", "k_mrr_change", "k_churn_probability"}
_INT_KEYS = {"customer_id", "k_open_tickets", "k_latest_nps", "k_open_tasks"}


def _typed(alias: str, value):
    if value is None:
        return None
    if alias in _DECIMAL_KEYS:
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(value)
        return number
    if alias in _INT_KEYS:
        return int(value)
    if alias == "k_last_activity_on":
        return datetime.date.fromisoformat(value)
    return str(value)


def portfolio(user, filters: PortfolioFilters, at: datetime.date | None = None) -> Portfolio:
    """The portfolio of `user` under `filters` at the start of `at` (default today).

    Everything is counted, summed, sorted and cut in the database, over the day's stored
    health scores with the figures stored beside them (MRR, MRR 30 days before, former
    customer: `metrics.health_snapshots`) and churn probabilities (`churn.selectors.day_risks`),
    so its time hardly grows with the portfolio and its query count not at all. Customers
    without a complete stored row of the day (new ones, changed ones, or every one before the
    nightly run) are scored and stored first.
    """
    at = at or today()
    base = _portfolio_base(user, filters, at)
    model = published_model()
    stored = day_scores(at)
    risks = day_risks(at, model) if model is not None else None
    for attempt in range(2):  # a second pass only after storing the missing scores
        groups = _totals_by_band(base, stored, risks, filters.status)
        unscored = groups.get(None, {}).get("customers", 0)
        unrisked = sum(g["paying"] - g["risked"] for g in groups.values()) if model is not None else 0
        if attempt or not (unscored or unrisked):
            break
        if unscored:
            day_scores_fill(at, base)
        if model is not None:  # the newly stored rows say who pays
            day_risks_fill(at, model, base)
    rows = stored.filter(customer__in=base.values("pk"))
    if filters.status != "all":
        rows = rows.filter(former=filters.status == "former")
    shown = list(groups.values())
    if filters.band:
        band = "" if filters.band == "none" else filters.band
        rows = rows.filter(band=band)
        shown = [groups[band]] if band in groups else []
    renewal = filters.sort.lstrip("-") == "renewal"
    return Portfolio(
        at=at,
        customers=_sort_keys(rows, "name" if renewal else filters.sort, at, model),
        ordered_ids=_renewal_order(base.filter(pk__in=rows.values("customer_id")), at, filters.sort.startswith("-"))
        if renewal else None,
        total=sum(g["customers"] for g in shown),
        bands={band: groups[band]["customers"] if band in groups else 0 for band in kpis.HEALTH_BANDS},
        mrr_total=sum((g["mrr"] for g in shown), Decimal(0)),
        mrr_at_risk=sum((g["at_risk"] for g in shown), Decimal(0)),
        churn_model=model,
        sort="name" if renewal else filters.sort,
    )  # fmt: skip


def _with_row_figures(customers, at: datetime.date, model):
    """Annotate customers with what a portfolio row shows (correlated subqueries, for the rows fetched)."""
    before = at - datetime.timedelta(days=MRR_CHANGE_DAYS)
    health_rows = day_scores(at).filter(customer=OuterRef("pk"))
    risk_rows = day_risks(at, model).filter(customer=OuterRef("pk")) if model is not None else None
    return customers.select_related("owner").annotate(
        health_score=Subquery(health_rows.values("score")[:1]),
        health_band=Subquery(health_rows.values("band")[:1]),
        mrr=_paying_mrr(at),
        mrr_before=_paying_mrr(before),
        last_activity_on=aggregate_of(UserDayActivity.objects.filter(day__lt=at + datetime.timedelta(days=1)), Max("day")),
        open_tickets=Coalesce(aggregate_of(Ticket.objects.filter(resolved_at__isnull=True), Count("pk"), output_field=IntegerField()), 0),
        latest_nps=Subquery(
            SurveyResponse.objects.filter(customer=OuterRef("pk"), survey_type="nps")
            .order_by("-responded_at", "-pk")
            .values("score")[:1]
        ),
        open_tasks=Coalesce(aggregate_of(Task.objects.filter(completed_at__isnull=True), Count("pk"), output_field=IntegerField()), 0),
        churn_probability=Subquery(risk_rows.values("probability")[:1]) if model is not None else _NO_PROBABILITY,
    )


def _totals_by_band(base, scores, risks, status: str) -> dict:
    """{band (None: no complete stored row of the day): customers, paying ones, MRR, scored for churn, MRR at
    risk} of the customers of `base` with the status `status` ("": current and prospects, "former", "all"),
    in one grouped query over the day's stored rows: the filters' sets are computed once, not per total.

    Composed from the querysets' own SQL: each is a derived table joined to the customers.
    """
    tables = [base.order_by().values("id"), scores.order_by().values("customer_id", "band", "mrr", "former")]
    if risks is not None:
        tables.append(risks.order_by().values("customer_id", "mrr", "probability"))
    sqls, params = [], []
    for table in tables:
        sql, table_params = table.query.sql_with_params()
        sqls.append(sql)
        params.extend(table_params)
    risk_join, risk_columns = "", "0, 0"
    if risks is not None:
        risk_join = f" LEFT JOIN ({sqls[2]}) r ON r.customer_id = b.id"
        risk_columns = "COUNT(r.customer_id), SUM(r.mrr * r.probability)"
    where = {"": " WHERE s.mrr IS NULL OR NOT s.former", "former": " WHERE s.mrr IS NULL OR s.former"}.get(status, "")
    query = (
        f"SELECT CASE WHEN s.mrr IS NULL THEN NULL ELSE s.band END, COUNT(*),"
        f" COUNT(CASE WHEN s.mrr > 0 THEN 1 END), SUM(s.mrr), {risk_columns} FROM ({sqls[0]}) b"
        f" LEFT JOIN ({sqls[1]}) s ON s.customer_id = b.id{risk_join}{where}"
        f" GROUP BY CASE WHEN s.mrr IS NULL THEN NULL ELSE s.band END"
    )
    with connections[base.db].cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return {
        band: {"customers": n, "paying": paying_n, "mrr": _money(mrr), "risked": risked, "at_risk": _money(at_risk)}
        for band, n, paying_n, mrr, risked, at_risk in rows
    }


def _money(value) -> Decimal:
    """A sum from the database as money (SQLite answers a float)."""
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def portfolio_row(c: Customer, renewal_on: datetime.date | None) -> PortfolioRow:
    """The row of one customer annotated by `_with_row_figures`."""
    return PortfolioRow(
        customer=c,
        health_score=c.health_score,
        band=c.health_band or None,
        mrr=c.mrr,
        mrr_before=c.mrr_before,
        renewal_on=renewal_on,
        last_activity_on=c.last_activity_on,
        open_tickets=c.open_tickets,
        latest_nps=c.latest_nps,
        open_tasks=c.open_tasks,
        churn_probability=None if c.churn_probability is None else float(c.churn_probability),
    )


def rows_of(found: Portfolio, ids: list[int]) -> list[PortfolioRow]:
    """The rows of the portfolio's customers `ids` (a page of `found.ids()`), in that order."""
    customers = Customer.objects.filter(pk__in=ids)
    by_id = {c.pk: c for c in _with_row_figures(customers, found.at, found.churn_model)}
    renewals = _renewals(customers, found.at)
    return [portfolio_row(by_id[pk], renewals.get(pk)) for pk in ids]


def portfolio_segments(user) -> list[str]:
    return list(
        policy.visible_customers(user)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )


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


def account_timeline(customer, limit: int = 40, at: datetime.date | None = None, *, notes=None) -> list[TimelineEntry]:
    """Notes, tasks, tickets and survey responses (before `at`, as they were then), newest first.
    `notes`: the account's notes already read (`Account.notes`, newest first, at least `limit` if there are)."""
    entries = []
    for note in (account_notes(customer, at) if notes is None else notes)[:limit]:
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
    """The health at the start of `at`: in a past view the stored snapshot when there is one, else computed;
    today the day's score the portfolio shows too (scored and stored now if the nightly run has not yet)."""
    if past:
        row = scores_on([customer.pk], at).get(customer.pk)
        if row is not None:
            return health_from_snapshot(row), "snapshot"
        return health_for_customers([customer.pk], at)[customer.pk], "computed"
    return health_from_snapshot(day_score(customer.pk, at)), "computed"


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
    mrr_series = list(zip(month_starts, mrr_on_days(scope, month_starts), strict=True))
    *usage, recent_usage = usage_kpis_for_periods(scope, [*months, kpi_period])  # four queries for 13 periods
    activity_series = [(m, {k: u[k] for k in ("mau", "events_per_active_user")}) for m, u in zip(months, usage, strict=True)]
    account_kpis = {
        **compute_kpis(scope, kpi_period, [k for k in ACCOUNT_KPI_KEYS if k not in recent_usage]),
        **{k: v for k, v in recent_usage.items() if k in ACCOUNT_KPI_KEYS},
    }
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
        kpis={k: account_kpis[k] for k in ACCOUNT_KPI_KEYS},
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

# --- Renewals, cohorts, churn reasons -----------------------------------------------------


def cohort_cell_for_user(user, scope: Scope, month: datetime.date, age: int) -> tuple[list[dict], int]:
    """The customers behind one cohort cell that `user` may see (the scope `seen_by` them, so the policy
    filters in the query), and how many more the cell counts (customers of other portfolios)."""
    rows = cohorts.cohort_customers(scope.seen_by(user), month, age, today())
    return rows, cohorts.cohort_size(scope, month) - len(rows)


def lost_customers_for_user(user, scope: Scope, month: MonthLosses) -> tuple[list[dict], int]:
    """The customers who churned or contracted in `month` (the scope's losses of a month) that `user` may
    see (the scope `seen_by` them, so the policy filters in the query), and how many more `month` counts."""
    rows = losses.month_losses(scope.seen_by(user), month.period).customers
    return rows, len(month.customers) - len(rows)


def open_task_counts(ids) -> dict[int, int]:
    """{customer: open tasks} of the customers in `ids`."""
    rows = Task.objects.filter(customer_id__in=list(ids), completed_at__isnull=True).values("customer_id")
    return {r["customer_id"]: r["n"] for r in rows.annotate(n=Count("pk")).order_by()}


def account_contacts(customer, limit: int = 100) -> list:
    """The customer's contacts (the product's users), named ones first."""
    return list(customer.contacts.order_by("name", "email", "external_id")[:limit])
