"""Applying a fitted churn model: probabilities and each column's share of the log-odds.

Pure Python (no NumPy, no scikit-learn, no Django): scoring a customer on a page or in
the daily job needs only the stored numbers of a fitted model (`churn.learning` fits
them), so a web worker never loads the numeric libraries. The arithmetic is the same
IEEE double arithmetic element by element, so the values equal those NumPy gave.
"""

import math
from dataclasses import dataclass

ALGORITHM = "logistic-l2"
SPLIT_COLUMN = "renewal_due"
PARTS = {1.0: "due", 0.0: "not_due"}


@dataclass(frozen=True)
class Contribution:
    column: str
    value: float | None  # the raw value (None: missing, filled with `fill`)
    logit: float  # what this column adds to the log-odds against the part's average customer-date


def part_for(model: dict, row) -> dict:
    """Return the fitted part that scores a row (the other part when the training data had none of its kind)."""
    name = "due"
    if model["split_column"] is not None:
        name = PARTS.get(float(row[model["columns"].index(model["split_column"])] or 0.0), "not_due")
    return model["parts"].get(name) or next(iter(model["parts"].values()))


def _scaled(value, fill: float, mean: float, scale: float) -> float:
    """What the fitted preparation does to one value: a missing one takes `fill`, then standardise."""
    x = math.nan if value is None else float(value)
    return ((fill if math.isnan(x) else x) - mean) / scale


def _logit(part: dict, row) -> tuple[float, list[float]]:
    terms = [
        _scaled(value, fill, mean, scale) * coef
        for value, fill, mean, scale, coef in zip(row, part["fill"], part["mean"], part["scale"], part["coef"], strict=True)
    ]
    return part["intercept"] + sum(terms), terms


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def predict(model: dict, rows) -> list[float]:
    """Return the churn probability of each design row."""
    probabilities = []
    for row in rows:
        part = part_for(model, row)
        if part["kind"] == "rate":
            probabilities.append(part["rate"])
        else:
            probabilities.append(sigmoid(_logit(part, row)[0]))
    return probabilities


def contributions(model: dict, row) -> list[Contribution]:
    """Return what each column adds to the row's log-odds (empty for a part scored by its rate), largest first."""
    part = part_for(model, row)
    if part["kind"] != "logistic":
        return []
    _z, terms = _logit(part, row)
    found = [Contribution(column, row[i], terms[i]) for i, column in enumerate(model["columns"])]
    return sorted(found, key=lambda c: -c.logit)


def apply_calibration(calibration: dict, scores) -> list[float]:
    """Return P(churn) of each rule score under a fitted Platt calibration."""
    return [sigmoid(calibration["a"] + calibration["b"] * float(s)) for s in scores]
