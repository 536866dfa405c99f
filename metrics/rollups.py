"""Usage rollups kept beside the raw events, so usage KPIs never rescan them.

Three tables, rebuilt for the customers and time span an import touched:
- `UserDayActivity`: events per user per reporting day (MAU, DAU, events per user, health);
- `CustomerDayFeature`: events per customer, day and event type (feature adoption, depth);
- `UsageSession`: sessions, derived with the 30-minute gap rule or grouped by session_id.

and two summed from them for the calendar months those touched, which the KPI engine
reads for the whole months of a period (its time then follows the users, not their days
and sessions):
- `UserMonthActivity`: per user and month, active days, events, sessions and their duration;
- `CustomerMonthFeature`: events per customer, month and event type.

All work is set-based SQL (INSERT … SELECT with window functions); Python only decides
which customers and which span to rebuild.

On PostgreSQL the events and the three daily rollups are partitioned by month
(`partitions_ensure` creates the coming months ahead; docs/scaling.md, "Event storage");
the monthly ones are plain tables (a row per user and month, not per event).
"""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth

from accounts.models import Contact, UsageEvent
from accounts.reporting_time import day_of
from lib import partitions
from metrics.models import CustomerDayFeature, CustomerMonthFeature, UsageSession, UserDayActivity, UserMonthActivity
from metrics.periods import add_months, day_start, month_start, reporting_tz

GAP_US = settings.CSPLATFORM_SESSION_GAP_MINUTES * 60 * 1_000_000


def refresh_after_import(result) -> None:
    """Bring the usage rollups up to date with the events an import wrote."""
    if result.kind != "usage_events" or result.touched_from is None or not result.touched_customer_ids:
        return
    start = day_of(result.touched_from)
    end = day_of(result.touched_to or result.touched_from) + datetime.timedelta(days=1)
    refresh_usage(result.touched_customer_ids, start, end)


@transaction.atomic
def refresh_usage(customer_ids, start: datetime.date, end: datetime.date) -> None:
    """Rebuild every usage rollup of `customer_ids` for the reporting days [start, end).

    Two rebuilds of one customer at once (two Segment requests, an import beside the API)
    would both delete, then both insert the same rows: on PostgreSQL each rebuild first
    takes a lock per customer, held to its commit, in id order so two never deadlock.
    """
    customer_ids = sorted(customer_ids)
    _rollup_months_ensure(start, end)
    for chunk_start in range(0, len(customer_ids), 500):
        chunk = customer_ids[chunk_start : chunk_start + 500]
        _lock_customers(chunk)
        _refresh_daily(chunk, start, end)
        first_at, last_at = _refresh_sessions(chunk, day_start(start), day_start(end))
        # The months of the days rebuilt and of every session regrouped (one may start in an
        # earlier month, or in any month for a session_id seen in the span).
        refresh_months(chunk, month_start(day_of(first_at)), add_months(day_of(last_at), 1))
        _lower_first_seen(chunk, day_start(start), day_start(end))


# The month-partitioned tables and their partition columns (PostgreSQL; plain tables elsewhere).
PARTITIONED = ((UsageEvent, "occurred_at"), (UserDayActivity, "day"), (CustomerDayFeature, "day"), (UsageSession, "started_at"))


@transaction.atomic
def partitions_ensure(day: datetime.date) -> list[str]:
    """Create the partitions of the months around `day`, and of months the default partitions hold; idempotent."""
    return [
        name
        for model, field in PARTITIONED
        for name in partitions.months_ahead_ensure(model._meta.db_table, model._meta.get_field(field).column, day)
    ]


def _rollup_months_ensure(start: datetime.date, end: datetime.date) -> None:
    """Create the rollups' partitions for the span's months that hold events (PostgreSQL; else nothing).

    Only months the events have a partition of, and their neighbours (a reporting day and
    a session may fall in the UTC month before or after its events'), so a span from a
    stray old event to today does not create every month between.
    """
    event_months = partitions.partition_months(UsageEvent._meta.db_table)
    if not event_months:
        return
    near = {partitions.add_months(m, n) for m in event_months for n in (-1, 0, 1)}
    span = set(partitions.months_between(day_start(start), day_start(end)))
    for model, field in PARTITIONED[1:]:
        partitions.months_ensure(model._meta.db_table, model._meta.get_field(field).column, span & near)


def _lower_first_seen(customer_ids, start_at, end_at) -> None:
    """A dated contact was first seen no later than its first event (undated ones stay known from the start).

    One grouped query over the span's events (the customer-and-time index), then an update of
    only the contacts whose first event is earlier than what is stored.
    """
    firsts = dict(
        UsageEvent.objects.filter(customer_id__in=customer_ids, occurred_at__gte=start_at, occurred_at__lt=end_at)
        .values("contact_id")
        .annotate(first=Min("occurred_at"))
        .values_list("contact_id", "first")
        .order_by()
    )
    earlier = [
        Contact(pk=pk, first_seen_at=firsts[pk])
        for pk, seen in Contact.objects.filter(customer_id__in=customer_ids, first_seen_at__isnull=False)
        .values_list("pk", "first_seen_at")
        .order_by()
        if pk in firsts and firsts[pk] < seen
    ]
    Contact.objects.bulk_update(earlier, ["first_seen_at"], batch_size=500)


ROLLUP_LOCK = 73010  # the advisory lock space of rollup rebuilds (pg_advisory_xact_lock(space, customer id))


def _lock_customers(customer_ids) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite lets one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, s.id) FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) s",
            [ROLLUP_LOCK, list(customer_ids)],
        )


def rebuild_all() -> None:
    """Rebuild every rollup from the raw events (after a restore, or to check the increments)."""
    span = UsageEvent.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if span["first"] is None:
        return
    ids = UsageEvent.objects.values_list("customer_id", flat=True).distinct()
    refresh_usage(set(ids), day_of(span["first"]), day_of(span["last"]) + datetime.timedelta(days=1))


def _insert_select(model, columns: list[str], queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {sql}", params)


def _refresh_daily(customer_ids, start: datetime.date, end: datetime.date) -> None:
    UserDayActivity.objects.filter(customer_id__in=customer_ids, day__gte=start, day__lt=end).delete()
    CustomerDayFeature.objects.filter(customer_id__in=customer_ids, day__gte=start, day__lt=end).delete()
    events = UsageEvent.objects.filter(
        customer_id__in=customer_ids, occurred_at__gte=day_start(start), occurred_at__lt=day_start(end)
    ).annotate(day=TruncDate("occurred_at", tzinfo=reporting_tz()))
    # Events per user and day, and per customer, day and feature.
    for model, keys in (
        (UserDayActivity, ["customer_id", "contact_id", "day"]),
        (CustomerDayFeature, ["customer_id", "day", "event_type"]),
    ):
        counts = events.values(*keys).annotate(n=Count("id")).values_list(*keys, "n").order_by()
        _insert_select(model, [*keys, "events"], counts)


def _refresh_sessions(customer_ids, start_at: datetime.datetime, end_at: datetime.datetime):
    """Re-derive the sessions touching [start_at, end_at) of these customers; return the first
    and last start a removed or new session can have.

    The span is first widened until no stored session crosses its edges (a session that
    reaches within the 30-minute gap of the span is part of it), so every event in the
    widened span is regrouped and no session outside it is affected.
    """
    gap = datetime.timedelta(microseconds=GAP_US)
    sessions = UsageSession.objects.filter(customer_id__in=customer_ids, session_key="")
    while True:
        around = sessions.filter(ended_at__gte=start_at - gap, started_at__lte=end_at + gap)
        span = around.aggregate(first=Min("started_at"), last=Max("ended_at"))
        wider_start = min(start_at, span["first"] or start_at)
        # end_at is exclusive, a session's end inclusive: keep its last event inside.
        last = span["last"] + datetime.timedelta(microseconds=1) if span["last"] else end_at
        wider_end = max(end_at, last)
        if (wider_start, wider_end) == (start_at, end_at):
            break
        start_at, end_at = wider_start, wider_end
    around.delete()
    _insert_derived_sessions(customer_ids, start_at, end_at)
    keyed = _refresh_keyed_sessions(customer_ids, start_at, end_at)
    starts = [start_at, *(k for k in keyed if k is not None)]
    # end_at is exclusive: the last instant of the span is the last a derived session can start at.
    return min(starts), max([end_at - datetime.timedelta(microseconds=1), *(k for k in keyed if k is not None)])


def _epoch_us(column: str) -> str:
    """SQL for a timestamp column as integer microseconds since 1970, exact on both backends."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; %% escapes the placeholder syntax.
    return (
        f"(CAST(strftime('%%s', {column}) AS INTEGER) * 1000000"
        f" + CAST(COALESCE(NULLIF(substr({column}, 21, 6), ''), '0') AS INTEGER))"
    )


def _ids_sql(customer_ids) -> str:
    return ", ".join(str(int(i)) for i in customer_ids)


def _insert_derived_sessions(customer_ids, start_at, end_at) -> None:
    session_table = UsageSession._meta.db_table
    event_table = UsageEvent._meta.db_table
    sql = f"""
        INSERT INTO {session_table} (customer_id, contact_id, session_key, started_at, ended_at, duration_us, events)
        SELECT customer_id, contact_id, '', MIN(occurred_at), MAX(occurred_at), MAX(t) - MIN(t), COUNT(*)
        FROM (
            SELECT customer_id, contact_id, occurred_at, t,
                   SUM(CASE WHEN prev IS NULL OR t - prev > {GAP_US} THEN 1 ELSE 0 END)
                       OVER (PARTITION BY contact_id ORDER BY t, id ROWS UNBOUNDED PRECEDING) AS session_no
            FROM (
                SELECT id, customer_id, contact_id, occurred_at, {_epoch_us("occurred_at")} AS t,
                       LAG({_epoch_us("occurred_at")}) OVER (PARTITION BY contact_id ORDER BY occurred_at, id) AS prev
                FROM {event_table}
                WHERE customer_id IN ({_ids_sql(customer_ids)}) AND session_id = ''
                  AND occurred_at >= %s AND occurred_at < %s
            ) AS numbered
        ) AS grouped
        GROUP BY customer_id, contact_id, session_no
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(start_at, end_at))


def _refresh_keyed_sessions(customer_ids, start_at, end_at):
    """Sessions the events name themselves: regroup every session_id seen in the span.

    Return the earliest and latest start of the sessions removed or written ((None, None) if none).
    """
    keys = (
        UsageEvent.objects.filter(customer_id__in=customer_ids, occurred_at__gte=start_at, occurred_at__lt=end_at)
        .exclude(session_id="")
        .values("contact_id", "session_id")
        .distinct()
    )
    if not keys.exists():
        return None, None
    session_table = UsageSession._meta.db_table
    event_table = UsageEvent._meta.db_table
    keys_sql, keys_params = keys.query.sql_with_params()
    keyed = f"""session_key <> '' AND customer_id IN ({_ids_sql(customer_ids)})
        AND (contact_id, session_key) IN (SELECT contact_id, session_id FROM ({keys_sql}) AS k)"""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(started_at), MAX(started_at) FROM {session_table} WHERE {keyed}", keys_params)
        before = cursor.fetchone()
        cursor.execute(f"DELETE FROM {session_table} WHERE {keyed}", keys_params)
        cursor.execute(
            f"""
            INSERT INTO {session_table} (customer_id, contact_id, session_key, started_at, ended_at, duration_us, events)
            SELECT e.customer_id, e.contact_id, e.session_id, MIN(e.occurred_at), MAX(e.occurred_at),
                   MAX({_epoch_us("e.occurred_at")}) - MIN({_epoch_us("e.occurred_at")}), COUNT(*)
            FROM {event_table} AS e
            WHERE e.customer_id IN ({_ids_sql(customer_ids)}) AND e.session_id <> ''
              AND (e.contact_id, e.session_id) IN (SELECT contact_id, session_id FROM ({keys_sql}) AS k)
            GROUP BY e.customer_id, e.contact_id, e.session_id
            """,
            keys_params,
        )
        cursor.execute(f"SELECT MIN(started_at), MAX(started_at) FROM {session_table} WHERE {keyed}", keys_params)
        after = cursor.fetchone()
    # A raw cursor gives SQLite's instants as text (UTC): parse them into aware datetimes.
    instants = [_instant(v) for v in (*before, *after) if v is not None]
    return (min(instants), max(instants)) if instants else (None, None)


def _instant(value) -> datetime.datetime:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def refresh_months(customer_ids, first: datetime.date, end: datetime.date) -> None:
    """Rebuild the monthly rollups of `customer_ids` for the months [first, end) (first days) from the day rollups.

    A user's month sums its user days and the sessions starting in the month (reporting
    time zone); a customer's month and event type sums its customer-day features.
    """
    UserMonthActivity.objects.filter(customer_id__in=customer_ids, month__gte=first, month__lt=end).delete()
    CustomerMonthFeature.objects.filter(customer_id__in=customer_ids, month__gte=first, month__lt=end).delete()
    keys = ["customer_id", "contact_id", "month"]
    days = (
        UserDayActivity.objects.filter(customer_id__in=customer_ids, day__gte=first, day__lt=end)
        .annotate(month=TruncMonth("day"))
        .values(*keys)
        .annotate(n_days=Count("pk"), n_events=Sum("events"), n_sessions=Value(0), n_us=Value(0))
        .values_list(*keys, "n_days", "n_events", "n_sessions", "n_us")
        .order_by()
    )
    sessions = (
        UsageSession.objects.filter(customer_id__in=customer_ids, started_at__gte=day_start(first), started_at__lt=day_start(end))
        .annotate(month=TruncMonth(TruncDate("started_at", tzinfo=reporting_tz())))
        .values(*keys)
        .annotate(n_days=Value(0), n_events=Value(0), n_sessions=Count("pk"), n_us=Sum("duration_us"))
        .values_list(*keys, "n_days", "n_events", "n_sessions", "n_us")
        .order_by()
    )
    days_sql, days_params = days.query.sql_with_params()
    sessions_sql, sessions_params = sessions.query.sql_with_params()
    with connection.cursor() as cursor:
        # A session's first event is an event of its month: every user with sessions has a day row too.
        cursor.execute(
            f"""
            INSERT INTO {UserMonthActivity._meta.db_table} (customer_id, contact_id, month, days, events, sessions, session_us)
            SELECT u.customer_id, u.contact_id, u.month, SUM(u.n_days), SUM(u.n_events), SUM(u.n_sessions), SUM(u.n_us)
            FROM ({days_sql} UNION ALL {sessions_sql}) AS u
            GROUP BY u.customer_id, u.contact_id, u.month
            """,
            [*days_params, *sessions_params],
        )
    features = (
        CustomerDayFeature.objects.filter(customer_id__in=customer_ids, day__gte=first, day__lt=end)
        .annotate(month=TruncMonth("day"))
        .values("customer_id", "month", "event_type")
        .annotate(n=Sum("events"))
        .values_list("customer_id", "month", "event_type", "n")
        .order_by()
    )
    _insert_select(CustomerMonthFeature, ["customer_id", "month", "event_type", "events"], features)


def rebuild_months() -> None:
    """Rebuild every monthly rollup from the day rollups (after the migration that adds them, or to check them)."""
    spans = [
        UserDayActivity.objects.aggregate(first=Min("day"), last=Max("day")),
        CustomerDayFeature.objects.aggregate(first=Min("day"), last=Max("day")),
        UsageSession.objects.aggregate(first=Min("started_at"), last=Max("started_at")),
    ]
    days = [day_of(v) for span in spans for v in span.values() if v is not None]
    if not days:
        return
    ids = set()
    for model in (UserDayActivity, CustomerDayFeature, UsageSession):
        ids |= set(model.objects.values_list("customer_id", flat=True).distinct().order_by())
    ids = sorted(ids)
    for chunk_start in range(0, len(ids), 500):
        refresh_months(ids[chunk_start : chunk_start + 500], month_start(min(days)), add_months(max(days), 1))


def _params(*instants):
    return [connection.ops.adapt_datetimefield_value(i) for i in instants]
