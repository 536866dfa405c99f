"""Dry run of an alert rule: how it would have fired over the last N weeks, and how well.

The rule is matched once a week (at each Monday-aligned date back from `end`) against the
customers paying then. It reports the firings per week, the customers, the share of
fired customers who churned within 90 days (precision; only firings at least 90 days
old are judged) next to the base churn rate, and the task load per CSM. A customer who
matched the week before keeps its open alert, so only a new match makes a task.
"""

import datetime
from collections import Counter, defaultdict

from accounts.models import Customer, Subscription
from alerts.conditions import ScoreCache, matches
from metrics.backtest import HORIZON_DAYS


def dry_run(kind: str, threshold: int, end: datetime.date, weeks: int = 26) -> dict:
    """Replay the rule weekly over the `weeks` weeks before `end`; see the module docstring."""
    days = [end - datetime.timedelta(weeks=i) for i in reversed(range(weeks))]
    scores = ScoreCache()
    paying_cache: dict[datetime.date, dict] = {}

    def paying(day):
        if day not in paying_cache:
            paying_cache[day] = Subscription.objects.paying_at(day).mrr_by_customer()
        return paying_cache[day]

    per_week, first_fired, new_tasks, previous = [], {}, [], set()
    judged = {"fired": 0, "churned": 0, "paying": 0, "paying_churned": 0}
    for day in days:  # a fixed number of queries per week
        ids = sorted(paying(day))
        found = matches(kind, threshold, day, ids, scores)
        new = set(found) - previous
        per_week.append({"day": day.isoformat(), "fired": len(found), "new": len(new)})
        new_tasks += [(day, cid) for cid in sorted(new)]
        for cid in found:
            first_fired.setdefault(cid, day)
        previous = set(found)
        if day + datetime.timedelta(days=HORIZON_DAYS) <= end:
            later = paying(day + datetime.timedelta(days=HORIZON_DAYS))
            judged["fired"] += len(new)
            judged["churned"] += sum(1 for cid in new if cid not in later)
            judged["paying"] += len(ids)
            judged["paying_churned"] += sum(1 for cid in ids if cid not in later)
    customers = Customer.objects.select_related("owner").in_bulk(list(first_fired))
    load = Counter(
        customers[cid].owner.get_username() if customers[cid].owner else "(no CSM)" for _day, cid in new_tasks
    )
    churned_after = defaultdict(lambda: None)
    for cid, day in first_fired.items():
        if day + datetime.timedelta(days=HORIZON_DAYS) <= end:
            churned_after[cid] = cid not in paying(day + datetime.timedelta(days=HORIZON_DAYS))
    return {
        "weeks": per_week,
        "tasks": len(new_tasks),
        "customers": [
            {"id": cid, "name": customers[cid].name, "first_fired": day.isoformat(),
             "owner": customers[cid].owner.get_username() if customers[cid].owner else "", "churned": churned_after[cid]}  # fmt: skip
            for cid, day in sorted(first_fired.items(), key=lambda p: (p[1], customers[p[0]].name))
        ],
        "precision": judged["churned"] / judged["fired"] if judged["fired"] else None,
        "judged_firings": judged["fired"],
        "base_churn_rate": judged["paying_churned"] / judged["paying"] if judged["paying"] else None,
        "load": [{"csm": csm, "tasks": n, "per_week": n / weeks} for csm, n in load.most_common()],
    }
