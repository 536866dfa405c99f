"""Pure survey statistics: confidence intervals, revenue weights, medians. Standard library only.

The scores themselves (NPS, CSAT, CES) come from `metrics.kpis`; this module adds the
uncertainty around them and the weighted counts that `metrics.kpis.nps` is fed with.
"""

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from surveys import scales

Z_95 = 1.959964


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def nps_interval(counts: Mapping[int, int], z: float = Z_95) -> Interval | None:
    """Return the normal-approximation confidence interval of the NPS (−100..100); None without responses.

    Each response scores +1 (promoter), 0 (passive) or −1 (detractor); the NPS is 100 × their
    mean, so its standard error is 100 × sqrt((p + d − (p − d)²) / n).
    """
    n = sum(counts.values())
    if n == 0:
        return None
    p = sum(c for s, c in counts.items() if s >= scales.high_min(scales.NPS)) / n
    d = sum(c for s, c in counts.items() if s <= scales.low_max(scales.NPS)) / n
    se = math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)
    centre = p - d
    return Interval(max(-100.0, 100 * (centre - z * se)), min(100.0, 100 * (centre + z * se)))


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Interval | None:
    """Return the Wilson score interval of a proportion (0..1); None when n is 0.

    Used for CSAT and CES shares: unlike the normal approximation it stays inside 0..1
    and behaves for small samples and shares near 0 or 1.
    """
    if n == 0:
        return None
    phat = successes / n
    denominator = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denominator
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def share_interval(counts: Mapping[int, int], minimum: int, z: float = Z_95) -> Interval | None:
    """Return the Wilson interval of the share of responses scoring at least `minimum`."""
    return wilson_interval(sum(c for s, c in counts.items() if s >= minimum), sum(counts.values()), z)


def weighted_counts(pairs: Iterable[tuple[int, Decimal | None]]) -> dict[int, Decimal]:
    """Return {score: Σ weight} from (score, weight) pairs; a missing or negative weight counts 0."""
    totals: dict[int, Decimal] = {}
    for score, weight in pairs:
        w = weight if weight is not None and weight > 0 else Decimal(0)
        totals[score] = totals.get(score, Decimal(0)) + w
    return totals


def median_seconds(durations: Iterable[float]) -> float | None:
    """Return the median of durations in seconds, or None when there are none."""
    values = list(durations)
    return statistics.median(values) if values else None


def too_few(n: int, minimum: int) -> bool:
    """True when a sample of `n` responses is too small to read a score from."""
    return n < minimum
