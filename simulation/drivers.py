"""The behaviour model: how a customer's latent health drives what the data shows, and
how the observable drivers decide churn.

Every customer draws a latent health ``h0 ~ Beta(2.2, 1.8)`` (0 = doomed, 1 = thriving) at
sign-up. Each month its current health ``h`` moves towards ``h0``:
``h ← clamp(h + 0.35·(h0 − h) + N(0, 0.07))``. Health is never written to a file; only
its consequences are:

| what | depends on h |
|---|---|
| share of contacts active in a month | ``0.12 + 0.85·h + N(0, 0.08)`` |
| active days per active user | ``N(1 + 14·h, 1.5)`` per full month |
| sessions per active day | ``1 + [u < 0.15 + 0.45·h] + [u < 0.2·h]`` |
| features used (of five) | ``1 + round(4·h0 + N(0, 0.7))`` |
| tickets per month | Poisson, ``segment factor × (0.2 + 1.8·(1 − h)²)`` |
| unresolved ticket | ``0.02 + 0.25·(1 − h)²``; otherwise resolved after ``Exp(mean 6 + 60·(1 − h))`` hours |
| resolved on first contact | ``0.45 + 0.4·h`` |
| NPS score | ``N(4 + 6.5·h, 1.5)`` on 0–10; CSAT and CES alike on their scales |
| trial converts | ``logistic(−1.5 + 4·h0)`` |
| expansion / contraction per month | ``0.01 + 0.07·h²`` / ``0.005 + 0.05·(1 − h)²`` |
| reactivation per month gone | ``0.015 + 0.04·h0`` (from the second month after churn) |

Churn does not read ``h``. At the end of every paying month (except the first) a customer
churns with probability ``logistic(z)`` of three drivers a health score can observe:

    z = −5.6 + 3.0·low_usage + 1.2·detractor + 0.6·unresolved

- ``low_usage`` = ``1 − min(1, active user-days / (contacts × 12))`` in that month (the
  12 is scaled down for a month the customer could use only in part);
- ``detractor`` = 1 when the latest NPS answer of the last 180 days scored 0–6, else 0;
- ``unresolved`` = tickets opened in the last 90 days still unresolved at month end,
  at most 3.

A monthly plan churns on a day of the next month; an annual plan at its renewal date.
"""

import math

CHURN_INTERCEPT = -5.6
CHURN_LOW_USAGE = 3.0
CHURN_DETRACTOR = 1.2
CHURN_UNRESOLVED = 0.6
UNRESOLVED_CAP = 3
FULL_USE_DAYS = 12  # active days a month per contact that count as full use
DETRACTOR_WINDOW_DAYS = 180
UNRESOLVED_WINDOW_DAYS = 90


def logistic(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def clamp(value: float, low: float = 0.02, high: float = 0.98) -> float:
    return max(low, min(high, value))


def churn_probability(*, low_usage: float, detractor: bool, unresolved: int) -> float:
    """Return the probability that a paying customer decides to churn this month."""
    z = (
        CHURN_INTERCEPT
        + CHURN_LOW_USAGE * low_usage
        + CHURN_DETRACTOR * detractor
        + CHURN_UNRESOLVED * min(unresolved, UNRESOLVED_CAP)
    )
    return logistic(z)


def low_usage(user_days: int, contacts: int, month_fraction: float) -> float:
    """Return 1 − the month's active user-days as a share of full use (0 = full use, 1 = none)."""
    full = contacts * FULL_USE_DAYS * month_fraction
    return 1 - min(1.0, user_days / full) if full else 1.0


def next_health(rng, health: float, latent: float) -> float:
    """Return this month's health: a noisy step back towards the latent health."""
    return clamp(health + 0.35 * (latent - health) + rng.gauss(0, 0.07))


def active_share(rng, health: float) -> float:
    return clamp(0.12 + 0.85 * health + rng.gauss(0, 0.08), 0.05, 1.0)


def active_days_mean(health: float) -> float:
    return 1 + 14 * health


def sessions_per_day(rng, health: float) -> int:
    return 1 + (rng.random() < 0.15 + 0.45 * health) + (rng.random() < 0.2 * health)


def features_used(rng, latent: float) -> int:
    return max(1, min(5, 1 + round(4 * latent + rng.gauss(0, 0.7))))


def ticket_rate(health: float, segment_factor: float) -> float:
    return segment_factor * (0.2 + 1.8 * (1 - health) ** 2)


def unresolved_probability(health: float) -> float:
    return 0.02 + 0.25 * (1 - health) ** 2


def resolution_hours_mean(health: float) -> float:
    return 6 + 60 * (1 - health)


def first_contact_probability(health: float) -> float:
    return 0.45 + 0.4 * health


def trial_conversion_probability(latent: float) -> float:
    return logistic(-1.5 + 4 * latent)


def expansion_probability(health: float) -> float:
    return 0.01 + 0.07 * health**2


def contraction_probability(health: float) -> float:
    return 0.005 + 0.05 * (1 - health) ** 2


def reactivation_probability(latent: float) -> float:
    return 0.015 + 0.04 * latent


def score(rng, health: float, low: int, high: int, *, bonus: float = 0.0) -> int:
    """Return a survey score on [low, high] whose mean rises linearly with health."""
    span = high - low
    mean = low + span * (0.4 + 0.65 * health) + bonus
    return max(low, min(high, round(rng.gauss(mean, 0.15 * span))))


def poisson(rng, mean: float) -> int:
    """Draw a Poisson count with `rng` (Knuth; means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
