"""The drivers of one customer's churn risk: which features add most to it, with their values.

Pure. A feature's weight in one prediction is what its columns (the value and its missing
flag) add to the log-odds against the average customer-date the model learned from; the
drivers are the features adding most, above 0. Each carries the value now, the value 30
days before (None when unknown) and the typical value of the training data, so that
`churn.wording` can say "active days per user fell from 9 to 3".
"""

import math
from collections import defaultdict

from churn import prediction
from churn.feature_list import MISSING_SUFFIX, feature_of_column

TOP = 5  # stored; pages say the first three that read differently
# Context values a driver quotes besides its own value (see churn.features).
DETAILS = {
    "activity_trend": ("user_days", "user_days_before"),
    "active_user_share": ("active_users", "known_users"),
    "active_days_per_user": ("active_users",),
    "events_per_active_user": ("active_users",),
    "sessions_per_active_user": ("active_users",),
    "mrr_change_90d": ("mrr_90_days_before",),
    "nps_detractor": ("latest_nps",),
}
# Features explained together with another: a detractor flag is said with the NPS answer it comes from.
FOLDED = {"nps_detractor": "latest_nps"}


def typical_values(model: dict, fitted: dict) -> dict[str, float]:
    """Return each feature's training mean in a fitted part, in its own unit (log1p features back-transformed).

    A feature that was missing on every training row has no typical value.
    """
    if fitted.get("kind") != "logistic":
        return {}
    fills = dict(zip(model["columns"], fitted["fill"], strict=True))
    typical = {}
    for column, fill in fills.items():
        feature = feature_of_column(column)
        if column == feature.name and fills.get(column + MISSING_SUFFIX, 0.0) < 1.0:
            typical[column] = math.expm1(fill) if feature.transform == "log1p" else fill
    return typical


def top_drivers(model: dict, row, raw: dict, before: dict | None, top: int = TOP) -> list[dict]:
    """Return up to `top` features raising this row's risk most, largest first (empty for a part scored by rate).

    Each carries the value now and 30 days before (`before`, None when unknown), the
    training average (`typical`), which way the feature raises risk, and the context
    values its sentence quotes (`details`).
    """
    by_feature = defaultdict(float)
    for contribution in prediction.contributions(model, row):
        name = feature_of_column(contribution.column).name
        by_feature[FOLDED.get(name, name)] += contribution.logit
    part = prediction.part_for(model, row)
    typical = typical_values(model, part)
    ranked = sorted((logit, name) for name, logit in by_feature.items() if logit > 1e-9)
    context = raw.get("context", {})
    return [
        {"feature": name, "logit": round(logit, 4), "value": raw.get(name),
         "before": None if before is None else before.get(name), "typical": typical.get(name),
         "higher_is_riskier": part["coef"][model["columns"].index(name)] > 0,
         "details": {key: raw[key] if key in raw else context.get(key) for key in DETAILS.get(name, ())}}  # fmt: skip
        for logit, name in reversed(ranked[-top:])
    ]

