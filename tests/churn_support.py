"""Churn model test helpers: raw feature dicts, synthetic customer-dates, and a stored model version
fitted on them (no database work beyond the one row), for pages and services that need a model."""

import copy
import datetime
import functools
import math
import random

from churn import learning
from churn.dataset import Observation
from churn.feature_list import FEATURE_VERSION, FEATURES, column_names, design_row
from churn.models import ChurnModel
from churn.training import evaluate, judge

DAY = datetime.date(2025, 1, 6)


def raw_features(**values) -> dict:
    """A customer-date's raw features: a steady monthly customer, with `values` replacing defaults."""
    raw = {f.name: 0.0 for f in FEATURES}
    raw.update({
        "active_days_per_user": 8.0, "active_days_per_known_user": 6.0, "events_per_active_user": 20.0,
        "sessions_per_active_user": 10.0, "active_user_share": 0.75, "key_features_used": 0.6, "mrr": 500.0,
        "mrr_change_90d": 0.0, "tenure_months": 12.0, "renewal_due": 1.0, "days_since_last_active": 1.0,
        "first_contact_resolution": None, "hours_to_resolve": None, "latest_nps": None, "latest_csat": None,
        "latest_ces": None, "comment_sentiment": None, "csm_rating": None,
    })  # fmt: skip
    raw.update(values)
    raw["context"] = {"user_days": 48, "user_days_before": 50, "active_users": 6, "known_users": 8}
    return raw


def synthetic_observations(customers: int = 120, dates: int = 8, seed: int = 1) -> list[Observation]:
    """Customer-dates whose churn depends on use, a detractor answer and open tickets (like the simulator)."""
    rng = random.Random(seed)
    rows = []
    for cid in range(1, customers + 1):
        use = rng.uniform(0, 12)
        detractor = rng.random() < 0.25
        annual = rng.random() < 0.2
        for d in range(dates):
            days = max(0.0, use + rng.gauss(0, 1.5))
            tickets = float(rng.random() < 0.3) + float(rng.random() < 0.1)
            raw = raw_features(active_days_per_known_user=days, active_days_per_user=days * 1.3,
                               nps_detractor=float(detractor), latest_nps=4.0 if detractor else 9.0,
                               open_tickets=tickets, renewal_due=0.0 if annual else 1.0,
                               annual_billing=float(annual))  # fmt: skip
            z = -1.0 - 0.45 * days + 1.4 * detractor + 0.7 * tickets
            churned = not annual and rng.random() < 1 / (1 + math.exp(-z))
            health = max(0.0, min(100.0, 8 * days + rng.gauss(0, 15)))
            rows.append(Observation(cid, DAY + datetime.timedelta(days=7 * d), raw, churned, health))
    return rows


@functools.cache
def _fitted(seed: int):
    rows = synthetic_observations()
    train = [o for o in rows if o.customer_id <= 60]
    test = [o for o in rows if o.customer_id > 60]
    params = learning.fit([design_row(o.raw) for o in train], [o.churned for o in train],
                          [o.customer_id for o in train], column_names(), seed=seed)  # fmt: skip
    calibration = learning.calibrate_score([o.health for o in train], [o.churned for o in train])
    result = evaluate(params, test, calibration, seed=seed)
    return params, result


def stored_model(status=ChurnModel.Status.PUBLISHED, version=1, seed=0, **fields) -> ChurnModel:
    """A model version fitted on synthetic data: the first half of the customers learn, the rest test."""
    params, result = copy.deepcopy(_fitted(seed))
    qualifies, verdict = judge(result)
    defaults = dict(
        version=version, status=status, algorithm=params["algorithm"], feature_version=FEATURE_VERSION,
        columns=params["columns"], params=params, horizon_days=90, every_days=7, seed=seed,
        train_start=DAY - datetime.timedelta(days=400), train_end=DAY - datetime.timedelta(days=200),
        test_start=DAY, test_end=DAY + datetime.timedelta(days=49), health_model_label="health-v1",
        evaluation=result, qualifies=qualifies or status == ChurnModel.Status.PUBLISHED, verdict=verdict,
        trained_seconds=1.5,
    )  # fmt: skip
    defaults.update(fields)
    return ChurnModel.objects.create(**defaults)
