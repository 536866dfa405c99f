"""Pure statistics of the health backtest: ROC AUC (Mann–Whitney U with ties), ROC curve, rates.

Standard library only; plain values in, plain values out.
"""

from collections.abc import Sequence
from decimal import Decimal


def _average_ranks(values: Sequence[float]) -> list[float]:
    """Return the 1-based rank of each value; tied values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean
        i = j + 1
    return ranks


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Return P(score of a positive > score of a negative) + ½ P(tie); None without both classes.

    Higher scores should mean "positive" (for health: pass 100 − score, positive = churned).
    """
    if len(scores) != len(labels):
        raise ValueError("scores and labels differ in length")
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks([float(s) for s in scores])
    rank_sum = sum(r for r, label in zip(ranks, labels, strict=True) if label)
    u = rank_sum - positives * (positives + 1) / 2
    return u / (positives * negatives)


def roc_curve(scores: Sequence[float], labels: Sequence[bool]) -> list[tuple[float, float]]:
    """Return the ROC points (false positive rate, true positive rate), from (0, 0) to (1, 1)."""
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return []
    points, tp, fp = [(0.0, 0.0)], 0, 0
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: p[0], reverse=True)
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:  # tied scores move together
            tp += pairs[i][1]
            fp += not pairs[i][1]
            i += 1
        points.append((fp / negatives, tp / positives))
    return points


def rate(part: int, whole: int) -> Decimal | None:
    """Return part / whole, None when whole is 0."""
    return Decimal(part) / Decimal(whole) if whole else None
