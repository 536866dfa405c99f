"""Backtest of a health model version: score every paying customer at past dates, then see who churned.

For each date, every customer paying at that date is scored with `health_for_customers`
(a fixed number of queries per date) and followed for 90 days: churned = paying at the
date, not paying 90 days later; contracted = still paying, at a lower MRR. The figures
(ROC AUC of 100 − score against churn, each component's own AUC, a random score's AUC as
the baseline, churn per band) come from the pure `metrics.backtest_stats`.
"""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from accounts.models import Customer
from metrics import backtest_stats as stats
from metrics import kpis
from metrics.health import DEFAULT_WEIGHTS, OPTIONAL_COMPONENTS, health_for_customers
from metrics.health_versions import definition_of
from metrics.models import BacktestRun, HealthModel
from metrics.periods import add_months
from metrics.selectors import Scope, mrr_by_customer

HORIZON_DAYS = 90
ROC_POINTS = 60
LISTED = 50


def backtest_dates(today: datetime.date, months: int = 12) -> list[datetime.date]:
    """Return `months` first-of-month dates, the last one at least 90 days before `today`."""
    last = (today - datetime.timedelta(days=HORIZON_DAYS)).replace(day=1)
    return [add_months(last, -i) for i in reversed(range(months))]


def mrr_at(day: datetime.date) -> dict[int, Decimal]:
    """Return {customer: MRR} of every customer paying at the start of `day` (one query)."""
    return mrr_by_customer(Scope(), day)


def observations(model: HealthModel, dates: list[datetime.date]) -> list[dict]:
    """Return one row per (paying customer, date): its score, components and what happened next."""
    definition = definition_of(model)
    rows = []
    for day in dates:  # a fixed number of queries per date
        before, after = mrr_at(day), mrr_at(day + datetime.timedelta(days=HORIZON_DAYS))
        if model.segment:
            segment_ids = set(Customer.objects.filter(segment=model.segment).values_list("pk", flat=True))
            before = {k: v for k, v in before.items() if k in segment_ids}
        for customer_id, health in health_for_customers(sorted(before), day, definition).items():
            later = after.get(customer_id, Decimal(0))
            rows.append(
                {
                    "customer_id": customer_id,
                    "day": day,
                    "score": health.score,
                    "band": health.band,
                    "components": {name: c.score for name, c in health.components.items()},
                    "churned": later == 0,
                    "contracted": 0 < later < before[customer_id],
                }
            )
    return rows


def _auc(rows, value_of) -> dict:
    pairs = [(value_of(r), r["churned"]) for r in rows]
    pairs = [(v, c) for v, c in pairs if v is not None]
    auc = stats.roc_auc([100 - float(v) for v, _ in pairs], [c for _, c in pairs])
    return {"auc": auc, "n": len(pairs), "churned": sum(c for _, c in pairs)}


def _thin(points, n=ROC_POINTS):
    if len(points) <= n:
        return points
    step = (len(points) - 1) / (n - 1)
    return [points[round(i * step)] for i in range(n)]


def summarize(rows: list[dict], *, seed: int = 0) -> dict:
    """Return the backtest figures of scored observations (JSON-safe)."""
    scored = [r for r in rows if r["score"] is not None]
    labels = [r["churned"] for r in scored]
    risk = [100 - float(r["score"]) for r in scored]
    rng = random.Random(seed)
    random_auc = stats.roc_auc([rng.random() for _ in scored], labels)
    components = {}
    for name in (*DEFAULT_WEIGHTS, *OPTIONAL_COMPONENTS):
        if any(name in r["components"] for r in rows):
            components[name] = _auc(rows, lambda r, n=name: r["components"].get(n))
    bands = {}
    for band in kpis.HEALTH_BANDS:
        in_band = [r for r in scored if r["band"] == band]
        churned = sum(r["churned"] for r in in_band)
        contracted = sum(r["contracted"] for r in in_band)
        bands[band] = {
            "customers": len(in_band),
            "churned": churned,
            "churn_rate": _num(stats.rate(churned, len(in_band))),
            "contracted": contracted,
            "contraction_rate": _num(stats.rate(contracted, len(in_band))),
        }
    per_date = defaultdict(list)
    for r in scored:
        per_date[r["day"]].append(r)
    healthy_churned = sorted(
        (r for r in scored if r["band"] == kpis.HEALTHY and r["churned"]), key=lambda r: (r["day"], -r["score"])
    )
    names = dict(Customer.objects.filter(pk__in={r["customer_id"] for r in healthy_churned[:LISTED]}).values_list("pk", "name"))
    return {
        "observations": len(rows),
        "scored": len(scored),
        "churned": sum(labels),
        "contracted": sum(r["contracted"] for r in scored),
        "churn_rate": _num(stats.rate(sum(labels), len(scored))),
        "auc": stats.roc_auc(risk, labels),
        "random_auc": random_auc,
        "contraction_auc": stats.roc_auc(risk, [r["churned"] or r["contracted"] for r in scored]),
        "components": components,
        "bands": bands,
        "roc": [list(p) for p in _thin(stats.roc_curve(risk, labels))],
        "dates": [
            {
                "day": day.isoformat(),
                "customers": len(rs),
                "churned": sum(r["churned"] for r in rs),
                "auc": stats.roc_auc([100 - float(r["score"]) for r in rs], [r["churned"] for r in rs]),
            }
            for day, rs in sorted(per_date.items())
        ],
        "healthy_churned": [
            {"customer_id": r["customer_id"], "customer": names.get(r["customer_id"], ""), "day": r["day"].isoformat(),
             "score": str(r["score"])}  # fmt: skip
            for r in healthy_churned[:LISTED]
        ],
        "healthy_churned_total": len(healthy_churned),
    }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def backtest_run(*, model: HealthModel, dates: list[datetime.date], user=None) -> BacktestRun:
    """Backtest `model` at `dates` and store the result (what an admin reviews before publishing)."""
    result = summarize(observations(model, dates))
    auc = result["auc"]
    return BacktestRun.objects.create(
        model=model,
        dates=[d.isoformat() for d in dates],
        result=result,
        auc=None if auc is None else Decimal(str(round(auc, 6))),
        created_by=user,
    )
