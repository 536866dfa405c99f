"""The usage inputs of the KPI formulas: the monthly rollups for a period's whole calendar
months, the day rollups and sessions for its other days.

A period [start, end) is cut into its whole months and at most two runs of days around
them (all days when it holds no whole month). Counts that add up (user days, events,
sessions and their duration) are the sum of both parts. Distinct counts do not add up
over parts, so the days' part counts only what the months' part has not seen: a user
active on a partial day counts unless it has a month row of an active month of the same
period (likewise a customer per event type, and per any event). A month row exists
exactly when its month has day rows (metrics.rollups.refresh_months), so the result is
the distinct count over the period's day rows (tests/test_month_rollups.py holds both
paths equal).
"""

import datetime
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, Sum

from metrics.models import CustomerDayFeature, CustomerMonthFeature, UsageSession, UserDayActivity, UserMonthActivity
from metrics.periods import Period, add_months, day_start

ALL = None  # the key of the whole scope's counts when they are not grouped


@dataclass(frozen=True)
class Parts:
    """A period's whole months [first, end) (first days; None when it has none) and its other day spans."""

    months: tuple[datetime.date, datetime.date] | None
    days: tuple[tuple[datetime.date, datetime.date], ...]

    @classmethod
    def of(cls, period: Period, whole_months: bool = True) -> "Parts":
        whole = period.whole_months() if whole_months else []
        if not whole:
            return cls(None, ((period.start, period.end),))
        first, end = whole[0].start, add_months(whole[-1].start, 1)
        days = tuple(span for span in ((period.start, first), (end, period.end)) if span[0] < span[1])
        return cls((first, end), days)

    def in_months(self, field: str = "month") -> Q:
        return Q(**{f"{field}__gte": self.months[0], f"{field}__lt": self.months[1]})

    def in_days(self) -> Q:
        return reduce(or_, (Q(day__gte=start, day__lt=end) for start, end in self.days))

    def started_in_days(self) -> Q:
        return reduce(or_, (Q(started_at__gte=day_start(start), started_at__lt=day_start(end)) for start, end in self.days))


def _grouped(queryset, aggregates: dict, by: str | None) -> dict:
    """{`by` value: aggregates} in one GROUP BY query, or {ALL: aggregates} without `by`."""
    if not aggregates:
        return {}
    if not by:
        return {ALL: queryset.aggregate(**aggregates)}
    return {row.pop(by): row for row in queryset.values(by).annotate(**aggregates).order_by()}


def _any(queries: list[Q]) -> Q:
    return reduce(or_, queries)


def usage_counts_for_periods(scope, periods: list[Period], by: str | None = None, *, whole_months: bool | None = None) -> list[dict]:
    """The usage inputs of each period, read for all periods at once (a filtered aggregate each).

    Each is {"users", "user_days", "events", "sessions", "session_us", "active_customers",
    "adopters": {event type: customers}}, or with `by` {`by` value: that}. Distinct users add up
    over customers because a contact belongs to one customer.

    `whole_months`: read the periods' whole months from the monthly rollups (True), or every
    day from the day rollups (False: the monthly rollups' reference). By default the months,
    except for one customer, whose day rows are few: its account page reads thirteen periods,
    twelve months and the last 30 days, in three queries instead of five. Three queries when
    every period is made of whole months or none has one, five when they mix (seven when the
    scope is not one customer and not grouped by customer: the customers with any event are
    counted apart).
    """
    if not periods:
        return []
    if whole_months is None:
        whole_months = scope.customer_id is None
    one_customer = by == "customer_id" or scope.customer_id is not None  # active customers: 1 if any feature
    parts = [Parts.of(p, whole_months) for p in periods]
    with_months = [(i, part) for i, part in enumerate(parts) if part.months]
    with_days = [(i, part) for i, part in enumerate(parts) if part.days]
    tables, features = [], []  # ({key: {figure_<m|d><period index>: value}}), rows of (by,) event type, n_<m|d><index>
    for read, of_periods in ((_months_read, with_months), (_days_read, with_days)):
        if of_periods:
            more_tables, more_features = read(scope, of_periods, by, one_customer)
            tables += more_tables
            features += more_features
    keys = {key for table in tables for key in table} | {row[by] for row in features} if by else {ALL}
    counts = [{key: _no_usage() for key in keys} for _ in periods]
    for table in tables:
        for key, totals in table.items():
            for name, value in totals.items():
                stem, _, index = name.rpartition("_")
                counts[int(index[1:])][key][stem] += value or 0
    for row in features:
        key = row.pop(by) if by else ALL
        event_type = row.pop("event_type")
        for name, value in row.items():
            if value:
                of_key = counts[int(name[3:])][key]
                of_key["adopters"][event_type] = of_key["adopters"].get(event_type, 0) + value
    if one_customer:  # the customer is active when it used any feature
        for of_period in counts:
            for of_key in of_period.values():
                of_key["active_customers"] = 1 if of_key["adopters"] else 0
    return [c[ALL] for c in counts] if not by else counts


def _months_read(scope, with_months: list[tuple[int, Parts]], by: str | None, one_customer: bool):
    """The whole months' counts of each (period index, parts), from the monthly rollups."""
    months = scope.restrict(UserMonthActivity.objects.filter(_any([part.in_months() for _, part in with_months])))
    aggregates = {}
    for i, part in with_months:
        within = part.in_months() & Q(days__gt=0)
        aggregates |= {
            f"users_m{i}": Count("contact_id", distinct=True, filter=within),
            f"user_days_m{i}": Sum("days", filter=within),
            f"events_m{i}": Sum("events", filter=within),
            f"sessions_m{i}": Sum("sessions", filter=part.in_months()),
            f"session_us_m{i}": Sum("session_us", filter=part.in_months()),
        }
    tables = [_grouped(months, aggregates, by)]
    features = scope.restrict(CustomerMonthFeature.objects.filter(_any([part.in_months() for _, part in with_months])))
    adopters = {i: Count("customer_id", distinct=True, filter=part.in_months()) for i, part in with_months}
    fields = [by] if by else []
    rows = list(features.values(*fields, "event_type").annotate(**{f"n_m{i}": a for i, a in adopters.items()}).order_by())
    if not one_customer:
        tables.append(_grouped(features, {f"active_customers_m{i}": a for i, a in adopters.items()}, by))
    return tables, rows


def _days_read(scope, with_days: list[tuple[int, Parts]], by: str | None, one_customer: bool):
    """The other days' counts of each (period index, parts), from the day rollups and the sessions.

    Distinct users and customers count only when the period's whole months have not counted them.
    """
    days = scope.restrict(UserDayActivity.objects.filter(_any([part.in_days() for _, part in with_days])))
    aggregates = {}
    for i, part in with_days:
        unseen = part.in_days()
        if part.months:
            unseen &= ~Exists(
                UserMonthActivity.objects.filter(
                    part.in_months(), customer_id=OuterRef("customer_id"), contact_id=OuterRef("contact_id"), days__gt=0
                )
            )
        aggregates |= {
            f"users_d{i}": Count("contact_id", distinct=True, filter=unseen),
            f"user_days_d{i}": Count("pk", filter=part.in_days()),
            f"events_d{i}": Sum("events", filter=part.in_days()),
        }
    tables = [_grouped(days, aggregates, by)]
    sessions = scope.restrict(UsageSession.objects.filter(_any([part.started_in_days() for _, part in with_days])))
    tables.append(_grouped(sessions, {
        name: aggregate
        for i, part in with_days
        for name, aggregate in (
            (f"sessions_d{i}", Count("pk", filter=part.started_in_days())),
            (f"session_us_d{i}", Sum("duration_us", filter=part.started_in_days())),
        )
    }, by))  # fmt: skip
    features = scope.restrict(CustomerDayFeature.objects.filter(_any([part.in_days() for _, part in with_days])))
    adopters, active = {}, {}
    for i, part in with_days:
        unseen_type, unseen = part.in_days(), part.in_days()
        if part.months:
            in_months = CustomerMonthFeature.objects.filter(part.in_months(), customer_id=OuterRef("customer_id"))
            unseen_type &= ~Exists(in_months.filter(event_type=OuterRef("event_type")))
            unseen &= ~Exists(in_months)
        adopters[f"n_d{i}"] = Count("customer_id", distinct=True, filter=unseen_type)
        active[f"active_customers_d{i}"] = Count("customer_id", distinct=True, filter=unseen)
    fields = [by] if by else []
    rows = list(features.values(*fields, "event_type").annotate(**adopters).order_by())
    if not one_customer:
        tables.append(_grouped(features, active, by))
    return tables, rows


def _no_usage() -> dict:
    return {"users": 0, "user_days": 0, "events": 0, "sessions": 0, "session_us": 0, "active_customers": 0, "adopters": {}}
