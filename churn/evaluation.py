"""How well a churn score predicted on held-out customer-dates: AUC with its interval, lift, Brier, calibration.

Pure (numpy, no Django). The point AUC and the ROC curve are the health backtest's own
(`metrics.backtest_stats`); the intervals come from a bootstrap over customers (a customer
scored on many dates is one unit, so its dates are resampled together), seeded. A decile
of predicted probability is calibrated when its mean prediction lies inside the 95 %
Wilson interval of its observed churn rate, counted in effective rows for the same reason.
"""

import math

import numpy as np

from metrics.backtest_stats import roc_auc, roc_curve
from surveys.stats import wilson_interval

BOOTSTRAP = 1000
DECILES = 10
ROC_POINTS = 80


def _weighted_auc(levels: np.ndarray, labels: np.ndarray, weights: np.ndarray, n_levels: int) -> float:
    """AUC with each row counted `weight` times (tied scores count one half); NaN without both classes."""
    pos = np.bincount(levels, weights=weights * labels, minlength=n_levels)
    neg = np.bincount(levels, weights=weights * (1 - labels), minlength=n_levels)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return math.nan
    below = np.cumsum(neg) - neg
    return float((pos * (below + neg / 2)).sum() / (total_pos * total_neg))


def bootstrap_aucs(score_sets, labels, groups, *, seed: int = 0, rounds: int = BOOTSTRAP) -> list[list[float]]:
    """Return, for each score list, its AUC on `rounds` resamples of the customers (the same resamples for all)."""
    y = np.array(labels, dtype=float)
    _unique, group_index = np.unique(np.array(groups), return_inverse=True)
    n_groups = group_index.max() + 1 if len(group_index) else 0
    prepared = []
    for scores in score_sets:
        _values, levels = np.unique(np.array(scores, dtype=float), return_inverse=True)
        prepared.append((levels, levels.max() + 1 if len(levels) else 0))
    rng = np.random.default_rng(seed)
    results = [[] for _ in score_sets]
    for _ in range(rounds if n_groups else 0):
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        weights = counts[group_index].astype(float)
        for result, (levels, n_levels) in zip(results, prepared, strict=True):
            result.append(_weighted_auc(levels, y, weights, n_levels))
    return results


def _interval(values) -> tuple[float, float] | None:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def auc_comparison(model_scores, rule_scores, labels, groups, *, seed: int = 0, rounds: int = BOOTSTRAP) -> dict:
    """Return both AUCs with 95 % intervals and the interval of their difference, on the same customer-dates."""
    model_boot, rule_boot = bootstrap_aucs([model_scores, rule_scores], labels, groups, seed=seed, rounds=rounds)
    model_auc, rule_auc = roc_auc(model_scores, labels), roc_auc(rule_scores, labels)
    difference = None if model_auc is None or rule_auc is None else model_auc - rule_auc
    return {
        "model": {"auc": model_auc, "ci": _interval(model_boot)},
        "rule": {"auc": rule_auc, "ci": _interval(rule_boot)},
        "difference": {"auc": difference, "ci": _interval([m - r for m, r in zip(model_boot, rule_boot, strict=True)])},
    }


def top_decile_lift(scores, labels) -> float | None:
    """Return the churn rate of the riskiest tenth (by score, ties in input order) over the overall rate."""
    n = len(labels)
    churned = sum(bool(v) for v in labels)
    if n == 0 or churned == 0:
        return None
    order = sorted(range(n), key=lambda i: -float(scores[i]))  # stable: ties keep their order
    top = order[: max(1, math.ceil(n / DECILES))]
    return (sum(bool(labels[i]) for i in top) / len(top)) / (churned / n)


def brier(probabilities, labels) -> float | None:
    """Return the mean squared difference between probability and outcome (0 is perfect)."""
    if not labels:
        return None
    return sum((float(p) - bool(y)) ** 2 for p, y in zip(probabilities, labels, strict=True)) / len(labels)


def effective_rows(labels, groups) -> float:
    """Return how many independent rows a group of rows is worth, given that one customer's rows go together.

    The design effect of cluster sampling: the binomial variance of the observed rate over
    its cluster-robust variance (customers as clusters), at most the number of rows. Rows of
    different customers count fully; a customer whose rows all agree counts about once.
    When every row has the same outcome that variance is 0; each customer then counts once.
    """
    n = len(labels)
    rate = sum(bool(v) for v in labels) / n
    clusters: dict = {}
    for label, group in zip(labels, groups, strict=True):
        churned, rows = clusters.get(group, (0, 0))
        clusters[group] = (churned + bool(label), rows + 1)
    g = len(clusters)
    variance = sum((c - rate * m) ** 2 for c, m in clusters.values()) / n**2
    if variance <= 0 or rate in (0.0, 1.0):
        return float(g)
    return min(float(n), rate * (1 - rate) / variance)


def calibration(probabilities, labels, groups, bins: int = DECILES) -> list[dict]:
    """Return per decile of predicted probability: rows, mean predicted, observed rate, its band, inside or not.

    The band is the 95 % Wilson interval of the observed rate over the decile's effective
    rows (`effective_rows`): a customer scored on many dates is not many independent cases.
    """
    order = sorted(range(len(labels)), key=lambda i: float(probabilities[i]))
    deciles = []
    for k in range(bins):
        members = order[k * len(order) // bins : (k + 1) * len(order) // bins]
        if not members:
            continue
        outcomes = [bool(labels[i]) for i in members]
        predicted = sum(float(probabilities[i]) for i in members) / len(members)
        observed = sum(outcomes) / len(members)
        effective = effective_rows(outcomes, [groups[i] for i in members])
        band = wilson_interval(observed * effective, effective)
        deciles.append({"decile": k + 1, "rows": len(members), "churned": sum(outcomes),
                        "customers": len({groups[i] for i in members}), "effective_rows": round(effective, 1),
                        "predicted": predicted, "observed": observed, "band": [band.low, band.high],
                        "inside": band.low <= predicted <= band.high})  # fmt: skip
    return deciles


def thin(points: list, n: int = ROC_POINTS) -> list:
    """Return about `n` points of a curve, evenly spaced along it, first and last kept."""
    if len(points) <= n:
        return list(points)
    return [points[round(i * (len(points) - 1) / (n - 1))] for i in range(n)]


def summary(probabilities, labels, groups, *, ranking=None) -> dict:
    """Return the figures of one score on customer-dates: AUC, ROC, lift, Brier, calibration by decile."""
    ranking = probabilities if ranking is None else ranking
    deciles = calibration(probabilities, labels, groups)
    return {
        "rows": len(labels),
        "churned": sum(bool(v) for v in labels),
        "auc": roc_auc(ranking, labels),
        "roc": [list(point) for point in thin(roc_curve(ranking, labels))],
        "top_decile_lift": top_decile_lift(ranking, labels),
        "brier": brier(probabilities, labels),
        "calibration": deciles,
        "calibrated": all(d["inside"] for d in deciles),
    }
