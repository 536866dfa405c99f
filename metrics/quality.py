"""The data-quality gate: checks on what came in, before a period's figures are trusted.

Each check finds the rows that look wrong and names the reporting day they concern:
- `low_events`: a day with no events, or far fewer than the median of the 28 days before
  (below `CSPLATFORM_QUALITY_LOW_EVENTS_SHARE` of it; a missing export, a broken tracker);
- `mrr_jump`: a customer's MRR at one month's start more than `CSPLATFORM_QUALITY_MRR_FACTOR`
  times (or less than its inverse) the month before (a currency or unit mistake);
- `overlapping_subscriptions`: two rows of one customer and plan active at the same time;
- `ticket_resolved_before_opened`: a ticket resolved before it was opened;
- `events_before_signup`: events of a customer before the day it signed up;
- `duplicate_customers`: customers with the same name (letters and digits, any case).

`quality_refresh()` stores what the checks find as `QualityIssue` rows (kept while the
problem is there, deleted once fixed; an admin may accept one, which keeps it out of the
warnings). `period_quality(period)` is what reports and the API show for a period.
"""

import datetime
import re
import statistics
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer, Subscription, Ticket
from accounts.reporting_time import day_of, today
from metrics.models import QualityIssue, UserDayActivity
from metrics.periods import Period, add_months

TRAILING_DAYS = 28

CHECKS = {
    "low_events": _("A day with no events, or far fewer than usual"),
    "mrr_jump": _("A customer's MRR jumped between two months"),
    "overlapping_subscriptions": _("Two subscription rows of one customer and plan overlap"),
    "ticket_resolved_before_opened": _("A ticket was resolved before it was opened"),
    "events_before_signup": _("Events of a customer before it signed up"),
    "duplicate_customers": _("Customers with the same name"),
}


def _finding(check, day, key, detail, customer_id=None):
    return {"rule": check, "day": day, "key": key, "detail": detail, "customer_id": customer_id}


def low_events() -> list[dict]:
    share = Decimal(str(settings.CSPLATFORM_QUALITY_LOW_EVENTS_SHARE))
    per_day = dict(UserDayActivity.objects.values("day").annotate(n=Sum("events")).values_list("day", "n").order_by())
    if not per_day:
        return []
    first, last = min(per_day), min(max(per_day), today() - datetime.timedelta(days=1))
    found, day = [], first + datetime.timedelta(days=TRAILING_DAYS)
    while day <= last:
        trailing = [per_day.get(day - datetime.timedelta(days=i), 0) for i in range(1, TRAILING_DAYS + 1)]
        median = Decimal(str(statistics.median(trailing)))
        n = per_day.get(day, 0)
        if median > 0 and n < median * share:
            found.append(_finding("low_events", day, day.isoformat(), f"{n} events; median of the 28 days before: {median}"))
        day += datetime.timedelta(days=1)
    return found


def mrr_jump() -> list[dict]:
    factor = Decimal(str(settings.CSPLATFORM_QUALITY_MRR_FACTOR))
    first = Subscription.objects.paying().aggregate(first=Min("started_at"))["first"]
    if first is None:
        return []
    found, month = [], add_months(first, 1)
    previous = Subscription.objects.paying_at(first).mrr_by_customer()
    while month <= today():
        current = Subscription.objects.paying_at(month).mrr_by_customer()
        for customer_id, before in previous.items():
            now = current.get(customer_id)
            if now and before and (now > before * factor or now * factor < before):
                found.append(_finding("mrr_jump", month, f"{customer_id}:{month}", f"MRR {before} → {now}", customer_id))
        previous, month = current, add_months(month, 1)
    return found


def overlapping_subscriptions() -> list[dict]:
    other = "customer__subscriptions__"
    later = Q(**{f"{other}started_at__gt": F("started_at")}) | Q(
        **{f"{other}started_at": F("started_at"), f"{other}pk__gt": F("pk")}
    )
    still_running = Q(ended_at__isnull=True) | Q(ended_at__gt=F(f"{other}started_at"))
    rows = Subscription.objects.filter(  # one filter() call: one join to the customer's other rows
        later, still_running, **{f"{other}plan": F("plan")}
    ).values_list("pk", "customer_id", "plan", f"{other}pk", f"{other}started_at")
    return [
        _finding("overlapping_subscriptions", day, f"{pk}:{other_pk}", f"plan {plan}: rows {pk} and {other_pk}", customer_id)
        for pk, customer_id, plan, other_pk, day in rows
    ]


def ticket_resolved_before_opened() -> list[dict]:
    rows = Ticket.objects.filter(resolved_at__lt=F("opened_at")).values_list("pk", "customer_id", "external_id", "opened_at")
    return [_finding("ticket_resolved_before_opened", day_of(o), str(pk), f"ticket {e}", c) for pk, c, e, o in rows]


def events_before_signup() -> list[dict]:
    rows = (
        UserDayActivity.objects.filter(customer__created_on__isnull=False, day__lt=F("customer__created_on"))
        .values("customer_id", "customer__created_on")
        .annotate(first=Min("day"), days=Count("day", distinct=True))
        .order_by()
    )
    return [
        _finding("events_before_signup", r["first"], str(r["customer_id"]),
                 f"events on {r['days']} day(s) before the sign-up on {r['customer__created_on']}", r["customer_id"])  # fmt: skip
        for r in rows
    ]


def _name_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def duplicate_customers() -> list[dict]:
    groups = defaultdict(list)
    for pk, name, created in Customer.objects.values_list("pk", "name", "created_on").order_by("pk"):
        groups[_name_key(name)].append((pk, name, created))
    found = []
    for members in groups.values():
        if len(members) > 1:
            day = min((c for _, _, c in members if c), default=None)
            ids = ", ".join(str(pk) for pk, _, _ in members)
            found.append(_finding("duplicate_customers", day, ids, f"{members[0][1]!r}: customers {ids}", members[0][0]))
    return found


RUNNERS = {
    "low_events": low_events,
    "mrr_jump": mrr_jump,
    "overlapping_subscriptions": overlapping_subscriptions,
    "ticket_resolved_before_opened": ticket_resolved_before_opened,
    "events_before_signup": events_before_signup,
    "duplicate_customers": duplicate_customers,
}


@transaction.atomic
def quality_refresh() -> dict[str, int]:
    """Run every check; store new findings, keep known ones (and their acceptance), delete the fixed ones."""
    counts = {}
    for check, run in RUNNERS.items():
        findings = {f["key"]: f for f in run()}
        stored = {i.key: i for i in QualityIssue.objects.filter(rule=check)}
        QualityIssue.objects.filter(rule=check).exclude(key__in=list(findings)).delete()
        QualityIssue.objects.bulk_create(
            [QualityIssue(**f) for key, f in findings.items() if key not in stored]
        )
        for key, f in findings.items():
            issue = stored.get(key)
            if issue and (issue.detail, issue.day) != (f["detail"], f["day"]):
                issue.detail, issue.day = f["detail"], f["day"]
                issue.save(update_fields=["detail", "day"])
        counts[check] = len(findings)
    return counts


def period_quality(period: Period, customer_ids=None) -> dict:
    """What the API's `quality` field and the reports' warning say about a period: open issues dated in it."""
    issues = QualityIssue.objects.filter(accepted_at__isnull=True, day__gte=period.start, day__lt=period.end)
    if customer_ids is not None:  # a scope's warnings: its customers' issues and the company-wide ones
        issues = issues.filter(Q(customer_id__in=customer_ids) | Q(customer__isnull=True))
    by_check = dict(issues.values("rule").annotate(n=Count("pk")).values_list("rule", "n").order_by())
    return {"status": "warning" if by_check else "ok", "issues": sum(by_check.values()), "checks": by_check}


def scope_quality(scope, period: Period) -> dict:
    """`period_quality` for a KPI scope (metrics.selectors.Scope): the company sees every issue."""
    return period_quality(period, None if scope.is_company else scope.customers().values("pk"))
