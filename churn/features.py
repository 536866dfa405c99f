"""Churn features as of a day: every value from data known at the start of that day.

`features_at(ids, day)` returns {customer: {feature: value or None}} with a fixed number
of aggregate queries (rollups for usage, never the raw events). Windows are half-open and
end at the start of `day`: usage rollup days before `day`, tickets and answers before its
first instant, subscriptions active at its start. Nothing dated on or after `day` can
change a value, which the as-of purity test checks by cutting the data at `day`.

Two inputs are not dated and are read as they are now: a customer's known users
(contacts) and the current score of a survey answer changed later (docs/churn-model.md).
Besides the features, each dict holds a few `context` values the explanations quote
(the user-days behind the trend, MRR 90 days before).
"""

import datetime

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum

from accounts.models import Contact, Subscription, Ticket
from metrics import kpis
from metrics.models import CsmRating, CustomerDayFeature, UsageSession, UserDayActivity
from metrics.periods import day_start
from metrics.selectors import Scope, mrr_by_customer
from surveys.models import SurveyResponse

WINDOW_DAYS = 30
SUPPORT_DAYS = 90
VOICE_DAYS = 180
MRR_CHANGE_DAYS = 90
INACTIVE_CAP_DAYS = 91  # "not active in the last 90 days" reads as 91
HORIZON_DAYS = 90
CHUNK = 2000  # customers per set of queries


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _ratio(numerator, denominator) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _months_after(day: datetime.date, months: int) -> datetime.date:
    """Return `day` plus `months` calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def next_term_end(started_at: datetime.date, billing_months: int, day: datetime.date) -> datetime.date:
    """Return the first end of a billing term after `day` for a contract running since `started_at`."""
    months = (day.year - started_at.year) * 12 + day.month - started_at.month
    terms = max(1, months // billing_months)
    end = _months_after(started_at, terms * billing_months)
    while end <= day:
        terms += 1
        end = _months_after(started_at, terms * billing_months)
    return end


def _usage(ids, day):
    start, before = day - _days(WINDOW_DAYS), day - _days(2 * WINDOW_DAYS)
    rows = (
        UserDayActivity.objects.filter(customer_id__in=ids, day__gte=before, day__lt=day)
        .values("customer_id")
        .annotate(
            user_days=Count("pk", filter=Q(day__gte=start)),
            users=Count("contact_id", distinct=True, filter=Q(day__gte=start)),
            events=Sum("events", filter=Q(day__gte=start)),
            user_days_before=Count("pk", filter=Q(day__lt=start)),
        )
    )
    usage = {row["customer_id"]: row for row in rows}
    last = dict(
        UserDayActivity.objects.filter(customer_id__in=ids, day__gte=day - _days(INACTIVE_CAP_DAYS - 1), day__lt=day)
        .values("customer_id")
        .annotate(last=Max("day"))
        .values_list("customer_id", "last")
    )
    sessions = dict(
        UsageSession.objects.filter(customer_id__in=ids, started_at__gte=day_start(start), started_at__lt=day_start(day))
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    return usage, last, sessions


def _key_features_used(ids, day) -> tuple[dict[int, int], int]:
    """Return ({customer: key features used in the window}, number of key features)."""
    features = CustomerDayFeature.objects.filter(day__gte=day - _days(WINDOW_DAYS), day__lt=day)
    key = list(settings.CSPLATFORM_KEY_FEATURES) or sorted(set(features.values_list("event_type", flat=True)))
    used = dict(
        features.filter(customer_id__in=ids, event_type__in=key)
        .values("customer_id")
        .annotate(n=Count("event_type", distinct=True))
        .values_list("customer_id", "n")
    )
    return used, len(key)


def _contracts(ids, day):
    """Return ({customer: (longest billing period, last of its contracts' next term ends)}, {customer: first paying day}).

    A customer can stop paying altogether only once every paying contract has reached the
    end of a term, hence the last of the next term ends.
    """
    active = Subscription.objects.active_at(day).paying().filter(customer_id__in=ids)
    contracts = {}
    for customer_id, started_at, months in active.values_list("customer_id", "started_at", "billing_period_months"):
        ends = next_term_end(started_at, months, day)
        billing, last_end = contracts.get(customer_id, (0, ends))
        contracts[customer_id] = (max(billing, months), max(last_end, ends))
    first_paid = dict(
        Subscription.objects.paying()
        .filter(customer_id__in=ids, started_at__lte=day)
        .values("customer_id")
        .annotate(first=Min("started_at"))
        .values_list("customer_id", "first")
    )
    return contracts, first_paid


def _support(ids, day):
    at = day_start(day)
    since = day_start(day - _days(SUPPORT_DAYS))
    tickets = Ticket.objects.filter(customer_id__in=ids, opened_at__lt=at)
    open_now = dict(
        tickets.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=at))
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    opened = dict(
        tickets.filter(opened_at__gte=since).values("customer_id").annotate(n=Count("pk")).values_list("customer_id", "n")
    )
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    resolved = {
        row["customer_id"]: row
        for row in tickets.filter(resolved_at__gte=since, resolved_at__lt=at)
        .values("customer_id")
        .annotate(
            counted=Count("pk", filter=Q(contacts_count__isnull=False)),
            first=Count("pk", filter=Q(contacts_count=1)),
            duration=Avg(duration),
        )
    }
    return open_now, opened, resolved


def _voice(ids, day):
    """Return ({(customer, survey type): latest score}, {customer: mean comment sentiment})."""
    answers = SurveyResponse.objects.filter(
        customer_id__in=ids, responded_at__gte=day_start(day - _days(VOICE_DAYS)), responded_at__lt=day_start(day)
    )
    latest = {}
    rows = answers.order_by("responded_at", "pk").values_list("customer_id", "survey_type", "score")
    for customer_id, survey_type, score in rows:  # a few answers per customer; the latest wins
        latest[(customer_id, survey_type)] = score
    sentiment = dict(
        answers.filter(sentiment__isnull=False)
        .exclude(comment="")
        .values("customer_id")
        .annotate(mean=Avg("sentiment"))
        .values_list("customer_id", "mean")
    )
    return latest, sentiment


def _csm_ratings(ids, day) -> dict[int, int]:
    rows = (
        CsmRating.objects.filter(customer_id__in=ids, created_at__lt=day_start(day), expires_on__gt=day)
        .order_by("created_at", "pk")
        .values_list("customer_id", "rating")
    )
    return dict(rows)  # the latest wins


def _optional(value):
    return None if value is None else float(value)


def features_at(customer_ids, day: datetime.date, horizon: int = HORIZON_DAYS) -> dict[int, dict]:
    """Return {customer: raw feature values and context} for the customers paying at the start of `day`.

    Customers in `customer_ids` who are not paying then are left out: the model predicts
    whether a paying customer still pays `horizon` days later. Many customers are read in
    chunks (SQLite limits the parameters of one query).
    """
    customer_ids = list(customer_ids)
    if len(customer_ids) > CHUNK:
        return {
            cid: values
            for start in range(0, len(customer_ids), CHUNK)
            for cid, values in features_at(customer_ids[start : start + CHUNK], day, horizon).items()
        }
    mrr_now = mrr_by_customer(Scope(), day, customer_ids)
    ids = sorted(mrr_now)
    if not ids:
        return {}
    mrr_before = mrr_by_customer(Scope(), day - _days(MRR_CHANGE_DAYS), ids)
    usage, last_active, sessions = _usage(ids, day)
    used, key_count = _key_features_used(ids, day)
    contacts = dict(
        Contact.objects.known_at(day_start(day)).filter(customer_id__in=ids).values("customer_id").annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    contracts, first_paid = _contracts(ids, day)
    open_now, opened, resolved = _support(ids, day)
    latest, sentiment = _voice(ids, day)
    ratings = _csm_ratings(ids, day)
    result = {}
    for cid in ids:  # every input above is already aggregated per customer
        u = usage.get(cid, {})
        user_days, users = u.get("user_days", 0), u.get("users", 0)
        before_days = u.get("user_days_before", 0)
        known = contacts.get(cid, 0)
        last = last_active.get(cid)
        mrr, mrr_then = mrr_now[cid], mrr_before.get(cid)
        billing, term_end = contracts.get(cid, (1, day))
        r = resolved.get(cid, {})
        hours = r.get("duration")
        nps = latest.get((cid, "nps"))
        result[cid] = {
            "active_days_per_user": _ratio(user_days, users),
            "active_days_per_known_user": _ratio(user_days, known),
            "events_per_active_user": _ratio(u.get("events") or 0, users),
            "sessions_per_active_user": _ratio(sessions.get(cid, 0), users),
            "activity_trend": _ratio(user_days - before_days, user_days + before_days),
            "days_since_last_active": float((day - last).days if last else INACTIVE_CAP_DAYS),
            "active_user_share": _ratio(users, known),
            "key_features_used": _ratio(used.get(cid, 0), key_count),
            "mrr": float(mrr),
            "mrr_change_90d": float(kpis.clamp((mrr - mrr_then) / mrr_then, -1, 1)) if mrr_then else None,
            "tenure_months": (day - first_paid.get(cid, day)).days / 30.4375,
            "annual_billing": 1.0 if billing >= 12 else 0.0,
            "renewal_due": 1.0 if term_end < day + _days(horizon) else 0.0,
            "open_tickets": float(open_now.get(cid, 0)),
            "tickets_90d": float(opened.get(cid, 0)),
            "first_contact_resolution": _ratio(r["first"], r["counted"]) if r.get("counted") else None,
            "hours_to_resolve": hours.total_seconds() / 3600 if hours is not None else None,
            "latest_nps": _optional(nps),
            "nps_detractor": 1.0 if nps is not None and nps < kpis.NPS_PASSIVE_MIN else 0.0,
            "latest_csat": _optional(latest.get((cid, "csat"))),
            "latest_ces": _optional(latest.get((cid, "ces"))),
            "comment_sentiment": _optional(sentiment.get(cid)),
            "csm_rating": _optional(ratings.get(cid)),
            "context": {
                "mrr": mrr,  # the exact Decimal, for MRR at risk
                "user_days": user_days,
                "user_days_before": before_days,
                "active_users": users,
                "known_users": known,
                "mrr_90_days_before": None if mrr_then is None else float(mrr_then),
                "term_ends_on": term_end.isoformat(),
            },
        }
    return result
