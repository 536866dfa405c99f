"""The portfolio: a CSM's customers with their health, MRR, renewal and risk, filtered, sorted and paged
by keyset cursor, with totals by health band, in a fixed number of queries."""

import datetime
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Count, DecimalField, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower

from accounts import policy
from accounts.models import Customer, Subscription, Task, Ticket
from accounts.reporting_time import today
from accounts.roles import CSM
from churn.selectors import day_risks, day_risks_fill, published_model
from lib.subqueries import aggregate_of
from metrics import kpis
from metrics.health_snapshots import MRR_CHANGE_DAYS, day_scores, day_scores_fill
from metrics.models import PortfolioFigure, UserDayActivity
from metrics.portfolio_tally import tally_segments, tally_totals
from metrics.selectors import Scope
from surveys.models import SurveyResponse


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
# (unscored last when sorted riskiest first, the column's default). MRR, its change, the health
# score and the last active day are stored with the day's score (an index per order); open tasks,
# open tickets and the latest NPS answer are kept per customer beside its name (`_FIGURES`, an
# index per order); churn risk is evaluated for every customer of the filtered portfolio.
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
# Sorts by a current figure of the customer (`metrics.models.PortfolioFigure`, kept by triggers): its column.
_FIGURES = {"open_tasks": "open_tasks", "open_tickets": "open_tickets", "nps": "latest_nps"}
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
    name = sort.lstrip("-")
    if name in _FIGURES:  # kept current per customer beside its name: read in the order of an index
        alias = SORTS[name][0]
        figures = PortfolioFigure.objects.filter(customer_id__in=rows.values("customer_id"))
        figures = figures.annotate(**{alias: F(_FIGURES[name])}, k_name_lower=F("name_lower"), k_name=F("name"))
        return figures.order_by(*_ordering(sort))
    rows = rows.annotate(k_name_lower=Lower("customer__name"), k_name=F("customer__name"))
    customer = OuterRef("customer_id")
    if name == "mrr_change":
        rows = rows.annotate(k_mrr_change=F("mrr") - F("mrr_before"))
    elif name == "last_activity":  # stored with the day's score
        rows = rows.annotate(k_last_activity_on=F("last_activity_on"))
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


_NOT_NULL = {"k_name_lower", "k_name", "customer_id", "mrr", "k_mrr_change", "k_open_tasks", "k_open_tickets"}


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
    customer, last active day: `metrics.health_snapshots`), the customers' current figures
    (`metrics.models.PortfolioFigure`) and churn probabilities (`churn.selectors.day_risks`).
    The totals are read from the tallies (`metrics.portfolio_tally`) unless a search, the
    renewal filter or a published churn model needs the grouped pass over every customer, so
    its time hardly grows with the portfolio and its query count not at all. Customers
    without a complete stored row of the day (new ones, changed ones, or every one before the
    nightly run) are scored and stored first.
    """
    at = at or today()
    base = _portfolio_base(user, filters, at)
    model = published_model()
    stored = day_scores(at)
    risks = day_risks(at, model) if model is not None else None
    for attempt in range(2):  # a second pass only after storing the missing scores
        groups = _tallied(user, filters, at, stored) if model is None else None
        if groups is None:
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


def _portfolio_owner(user, filters: PortfolioFilters):
    """Whose portfolio is shown: (the CSM, or None for every customer; False when the tallies cannot
    tell: a search, the renewal filter, a user who sees no one)."""
    if filters.q or filters.renewal_days is not None:
        return False
    if policy.sees_all_customers(user):
        if not filters.csm:
            return None
        return get_user_model().objects.filter(username=filters.csm).first() or False
    return user if policy.role(user) == CSM else False


def _tallied(user, filters: PortfolioFilters, at: datetime.date, stored) -> dict | None:
    """The totals of `_totals_by_band` (without churn risk) from the tallies: the rows of the CSM's owned
    customers (`metrics.portfolio_tally`), plus a grouped pass over the customers assigned to them and
    owned by someone else (a few); None when the tallies cannot serve this view."""
    csm = _portfolio_owner(user, filters)
    if csm is False:
        return None
    groups = tally_totals(at, None if csm is None else [csm.pk], filters.segment, filters.status)
    if csm is not None:
        others = Customer.objects.filter(assigned_users=csm).exclude(owner=csm)
        if filters.segment:
            others = others.filter(segment=filters.segment)
        for band, group in _totals_by_band(others, stored, None, filters.status).items():
            mine = groups.setdefault(band, {"customers": 0, "paying": 0, "mrr": Decimal(0)})
            for figure in ("customers", "paying", "mrr"):
                mine[figure] += group[figure]
    return {band: {**group, "risked": 0, "at_risk": Decimal(0)} for band, group in groups.items()}


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
    """The segments of the customers `user` sees (the filter form's choices), from the customer tally."""
    if policy.sees_all_customers(user):
        return tally_segments(None)
    if policy.role(user) != CSM:
        return []
    return tally_segments([user.pk], also=Customer.objects.filter(assigned_users=user))
