"""The churn model's feature list: one documented, versioned list, and the design matrix built from it.

Pure (standard library only). `churn.features` computes each feature's raw value for a
customer as of a day; this module says what the model sees of it: a transform (`log1p`
for counts and amounts), and for a feature that may be missing, a `<name>_missing`
column (the value itself is then filled with the training mean by the model).
docs/churn-model.md describes every feature; change FEATURE_VERSION with any change of
meaning, so a stored model never scores with features it was not trained on.
"""

import math
from dataclasses import dataclass

FEATURE_VERSION = "1"
GROUPS = ("activity", "breadth", "revenue", "support", "voice", "csm")


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    unit: str  # how a value reads: days, share, number, count, money, change, months, flag, score_nps, …
    transform: str = "identity"  # or "log1p"
    can_be_missing: bool = False


FEATURES = (
    # Activity: the 30 days before the day (and the 30 before those for the trend).
    Feature("active_days_per_user", "activity", "days"),
    Feature("active_days_per_known_user", "activity", "days"),
    Feature("events_per_active_user", "activity", "number", "log1p"),
    Feature("sessions_per_active_user", "activity", "number", "log1p"),
    Feature("activity_trend", "activity", "trend"),
    Feature("days_since_last_active", "activity", "days_since"),
    # Breadth and depth of use.
    Feature("active_user_share", "breadth", "share"),
    Feature("key_features_used", "breadth", "share"),
    # Revenue and contract.
    Feature("mrr", "revenue", "money", "log1p"),
    Feature("mrr_change_90d", "revenue", "change", can_be_missing=True),
    Feature("tenure_months", "revenue", "months", "log1p"),
    Feature("annual_billing", "revenue", "flag"),
    Feature("renewal_due", "revenue", "flag"),
    # Support: tickets open on the day, and the 90 days before.
    Feature("open_tickets", "support", "count", "log1p"),
    Feature("tickets_90d", "support", "count", "log1p"),
    Feature("first_contact_resolution", "support", "share", can_be_missing=True),
    Feature("hours_to_resolve", "support", "hours", "log1p", can_be_missing=True),
    # Voice of the customer: the 180 days before the day.
    Feature("latest_nps", "voice", "score_nps", can_be_missing=True),
    Feature("nps_detractor", "voice", "flag"),
    Feature("latest_csat", "voice", "score_csat", can_be_missing=True),
    Feature("latest_ces", "voice", "score_ces", can_be_missing=True),
    Feature("comment_sentiment", "voice", "sentiment", can_be_missing=True),
    # The CSM's own rating (valid 90 days).
    Feature("csm_rating", "csm", "score_rating", can_be_missing=True),
)
BY_NAME = {f.name: f for f in FEATURES}
MISSING_SUFFIX = "_missing"


def column_names(features=FEATURES) -> list[str]:
    """Return the design matrix's columns: each feature, then its missing flag where it may be missing."""
    names = []
    for feature in features:
        names.append(feature.name)
        if feature.can_be_missing:
            names.append(feature.name + MISSING_SUFFIX)
    return names


def _transform(feature: Feature, value: float | None) -> float | None:
    if value is None:
        return None
    if feature.transform == "log1p":
        return math.log1p(max(0.0, float(value)))
    return float(value)


def design_row(raw: dict, features=FEATURES) -> list[float | None]:
    """Return one row of the design matrix from a customer's raw feature values (None: missing)."""
    row = []
    for feature in features:
        value = raw.get(feature.name)
        row.append(_transform(feature, value))
        if feature.can_be_missing:
            row.append(1.0 if value is None else 0.0)
    return row


def feature_of_column(column: str) -> Feature:
    """Return the feature a design column belongs to (a missing flag belongs to its feature)."""
    return BY_NAME[column.removesuffix(MISSING_SUFFIX)]
