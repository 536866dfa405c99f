"""Pure KPI formulas of spec/kpis.md: plain values in, `Kpi` results out.

Standard library only (and `surveys.scales`, the survey cut-offs, itself standard library
only; .importlinter keeps Django out). Every ratio keeps its numerator and denominator; a
ratio whose denominator is 0 is `None` with a reason, never an error. Arithmetic is
`Decimal`; rounding happens only when a value is shown (`round_value`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from surveys import scales

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

NPS_PROMOTER_MIN = scales.high_min(scales.NPS)
NPS_PASSIVE_MIN = scales.low_max(scales.NPS) + 1
CSAT_SATISFIED_MIN = scales.high_min(scales.CSAT)
CES_EASY_MIN = scales.high_min(scales.CES)


@dataclass(frozen=True)
class Kpi:
    """One computed figure: `value` is None exactly when it is undefined, and `reason` says why."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)


def amount(value) -> Kpi:
    """Return a plain amount (a sum or a count), which is always defined."""
    return Kpi(Decimal(value))


def ratio(numerator, denominator, reason: str) -> Kpi:
    """Return numerator / denominator, or None with `reason` when the denominator is 0."""
    numerator, denominator = Decimal(numerator), Decimal(denominator)
    if denominator == 0:
        return Kpi(None, numerator, denominator, reason)
    return Kpi(numerator / denominator, numerator, denominator)


def round_value(value: Decimal | None, places: int = 6) -> Decimal | None:
    """Round for display and the API: 6 decimal places, half-even."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


# --- Customers and revenue -------------------------------------------------------------


def logo_churn_rate(at_start: set, at_end: set) -> Kpi:
    """Customers paying at start but not at end, over customers paying at start."""
    churned = len(at_start - at_end)
    return ratio(churned, len(at_start), "no paying customers at the start of the period")


def customer_retention_rate(at_start: set, at_end: set) -> Kpi:
    """(E − N) / S, where N are customers paying at end that were not paying at start."""
    new = len(at_end - at_start)
    return ratio(len(at_end) - new, len(at_start), "no paying customers at the start of the period")


@dataclass(frozen=True)
class MrrMovements:
    opening: Decimal
    closing: Decimal
    new: Decimal
    reactivation: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    retained_net: Decimal  # Σ m1 over customers paying at start
    retained_gross: Decimal  # Σ min(m0, m1) over customers paying at start


def movement_of(m0: Decimal, m1: Decimal, paid_before: bool) -> tuple[str, Decimal] | None:
    """Return the one MRR movement of a customer whose MRR went from m0 to m1, or None."""
    if m0 == 0 and m1 > 0:
        return ("reactivation" if paid_before else "new", m1)
    if m1 > m0 > 0:
        return ("expansion", m1 - m0)
    if 0 < m1 < m0:
        return ("contraction", m0 - m1)
    if m0 > 0 and m1 == 0:
        return ("churn", m0)
    return None


def mrr_movements(opening: Mapping, closing: Mapping, paid_before: set) -> MrrMovements:
    """Split the change from opening to closing MRR per customer into the five movements.

    `opening` and `closing` map a customer to its MRR at start and at end (customers
    without MRR may be absent); `paid_before` holds the customers that paid before start.
    """
    totals = {"new": ZERO, "reactivation": ZERO, "expansion": ZERO, "contraction": ZERO, "churn": ZERO}
    retained_net = retained_gross = ZERO
    for customer in opening.keys() | closing.keys():
        m0, m1 = opening.get(customer, ZERO), closing.get(customer, ZERO)
        if m0 > 0:
            retained_net += m1
            retained_gross += min(m0, m1)
        movement = movement_of(m0, m1, customer in paid_before)
        if movement:
            totals[movement[0]] += movement[1]
    return MrrMovements(
        opening=sum(opening.values(), ZERO),
        closing=sum(closing.values(), ZERO),
        retained_net=retained_net,
        retained_gross=retained_gross,
        **totals,
    )


def arpu(mrr: Decimal, customers: int) -> Kpi:
    return ratio(mrr, customers, "no paying customers at the end of the period")


def net_revenue_retention(m: MrrMovements) -> Kpi:
    return ratio(m.opening + m.expansion - m.contraction - m.churn, m.opening, "no MRR at the start of the period")


def gross_revenue_retention(m: MrrMovements) -> Kpi:
    return ratio(m.opening - m.contraction - m.churn, m.opening, "no MRR at the start of the period")


def revenue_churn_rate(m: MrrMovements) -> Kpi:
    return ratio(m.contraction + m.churn, m.opening, "no MRR at the start of the period")


def monthly_churn(months: Iterable[tuple[int, int]]) -> Kpi:
    """Σ churned / Σ customers at start over whole months, given (churned, at_start) per month."""
    months = list(months)
    if not months:
        return Kpi(None, reason="the period holds no whole calendar month")
    churned = sum(c for c, _ in months)
    at_start = sum(s for _, s in months)
    return ratio(churned, at_start, "no paying customers at the start of its months")


def clv(arpu_kpi: Kpi, gross_margin: Decimal, churn: Kpi) -> Kpi:
    """ARPU × gross margin / monthly churn (lifetime = 1 / monthly churn)."""
    if arpu_kpi.value is None:
        return Kpi(None, reason=arpu_kpi.reason)
    if churn.value is None:
        return Kpi(None, reason=churn.reason)
    if churn.value == 0:
        return Kpi(None, reason="no customer churned, so the lifetime is unbounded")
    numerator = arpu_kpi.value * gross_margin
    return Kpi(numerator / churn.value, numerator, churn.value, extra={"monthly_churn": churn.value})


def customer_retention_cost(retention_costs: Decimal, retained_customers: int) -> Kpi:
    return ratio(retention_costs, retained_customers, "no customer was paying at both start and end")


def cac(acquisition_costs: Decimal, new_customers: int) -> Kpi:
    return ratio(acquisition_costs, new_customers, "no new paying customers in the period")


def ltv_to_cac(clv_kpi: Kpi, cac_kpi: Kpi) -> Kpi:
    if clv_kpi.value is None:
        return Kpi(None, reason=f"CLV is undefined: {clv_kpi.reason}")
    if cac_kpi.value is None:
        return Kpi(None, reason=f"CAC is undefined: {cac_kpi.reason}")
    return ratio(clv_kpi.value, cac_kpi.value, "CAC is 0")


# --- Conversion ------------------------------------------------------------------------


def conversion_rate(converted: int, created: int) -> Kpi:
    return ratio(converted, created, "no leads created in the period")


def trial_conversion_rate(converted: int, trials: int) -> Kpi:
    return ratio(converted, trials, "no first trials started in the period")


def onboarding(reached: list[int], created: int) -> tuple[Kpi, Kpi, list[Kpi]]:
    """Completion, drop-off and per-step drop-off from the customers reaching each step.

    `reached[k]` is the number of customers created in the period that did steps 1..k+1.
    Per step: 1 − reached_k / reached_(k−1), with reached_0 = customers created.
    """
    reason = "no customers created in the period"
    if not reached:
        return (Kpi(None, reason="no onboarding steps configured"),) * 2 + ([],)
    completion = ratio(reached[-1], created, reason)
    if completion.value is None:
        drop_off = completion
    else:
        drop_off = Kpi(ONE - completion.value, Decimal(created - reached[-1]), Decimal(created))
    steps = []
    previous = created
    for count in reached:
        if previous == 0:
            steps.append(Kpi(None, ZERO, ZERO, "no customer reached the step before"))
        else:
            steps.append(Kpi(ONE - Decimal(count) / Decimal(previous), Decimal(previous - count), Decimal(previous)))
        previous = count
    return completion, drop_off, steps


# --- Voice of the customer -------------------------------------------------------------


def nps(counts: Mapping[int, int]) -> Kpi:
    """100 × (promoters − detractors) / responses, from a {score: responses} map on 0–10."""
    promoters = sum(n for s, n in counts.items() if s >= NPS_PROMOTER_MIN)
    passives = sum(n for s, n in counts.items() if NPS_PASSIVE_MIN <= s < NPS_PROMOTER_MIN)
    detractors = sum(n for s, n in counts.items() if s < NPS_PASSIVE_MIN)
    responses = promoters + passives + detractors
    extra = {"promoters": promoters, "passives": passives, "detractors": detractors, "responses": responses}
    if responses == 0:
        return Kpi(None, reason="no NPS responses in the period", extra=extra)
    value = HUNDRED * (promoters - detractors) / responses
    return Kpi(value, Decimal(promoters - detractors), Decimal(responses), extra=extra)


def _share_at_least(counts: Mapping[int, int], minimum: int, reason: str) -> Kpi:
    good = sum(n for s, n in counts.items() if s >= minimum)
    return ratio(good, sum(counts.values()), reason)


def csat(counts: Mapping[int, int]) -> Kpi:
    """Responses scoring 4–5 over all responses (scale 1–5)."""
    return _share_at_least(counts, CSAT_SATISFIED_MIN, "no CSAT responses in the period")


def ces(counts: Mapping[int, int]) -> Kpi:
    """Responses scoring 5–7 over all responses (scale 1–7, 7 = very easy)."""
    return _share_at_least(counts, CES_EASY_MIN, "no CES responses in the period")


def ces_average(counts: Mapping[int, int]) -> Kpi:
    total = sum(s * n for s, n in counts.items())
    return ratio(total, sum(counts.values()), "no CES responses in the period")


# --- Support ---------------------------------------------------------------------------


def first_contact_resolution_rate(first_contact: int, resolved_with_count: int) -> Kpi:
    return ratio(first_contact, resolved_with_count, "no tickets with a known contact count resolved in the period")


# --- Product usage ---------------------------------------------------------------------


def mau(active_users: int) -> Kpi:
    return amount(active_users)


def dau_average(user_days: int, days: int) -> Kpi:
    """Mean daily active users: Σ over days of that day's active users / days in the period."""
    return ratio(user_days, days, "the period has no days")


def dau_mau(user_days: int, days: int, active_users: int) -> Kpi:
    """dau_average / mau, kept as one exact fraction: user-days / (days × mau)."""
    return ratio(user_days, days * active_users, "no active users in the period")


def average_session_duration(total_seconds: Decimal, sessions: int) -> Kpi:
    return ratio(total_seconds, sessions, "no sessions started in the period")


def events_per_active_user(events: int, active_users: int) -> Kpi:
    return ratio(events, active_users, "no active users in the period")


def feature_adoption(customers_by_feature: Mapping[str, int], active_customers: int) -> Kpi:
    """Per event type: customers using it / customers with any event; value = mean of those shares."""
    reason = "no customer had an event in the period"
    features = {name: ratio(n, active_customers, reason) for name, n in sorted(customers_by_feature.items())}
    if active_customers == 0 or not features:
        return Kpi(None, ZERO, Decimal(active_customers), reason, extra={"features": features})
    mean = sum((k.value for k in features.values()), ZERO) / len(features)
    return Kpi(mean, None, Decimal(active_customers), extra={"features": features})


# --- Health score ----------------------------------------------------------------------

HEALTHY_MIN = Decimal(70)
NEUTRAL_MIN = Decimal(40)
HEALTHY, NEUTRAL, AT_RISK = "healthy", "neutral", "at_risk"
HEALTH_BANDS = (HEALTHY, NEUTRAL, AT_RISK)  # best first


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


def _percent(part, whole) -> Decimal | None:
    """100 × part / whole, or None when `whole` is 0 (the component has no data)."""
    if not whole:
        return None
    return HUNDRED * Decimal(part) / Decimal(whole)


# Each component scores 0–100 from its inputs, or is None without data (then left out).


def health_frequency(active_user_days: int, active_users: int, target_days: Decimal) -> Decimal | None:
    """Active days per active user in the window as a share of the target days, at most 100."""
    average = _percent(active_user_days, active_users)
    return None if average is None else min(HUNDRED, average / target_days)


def health_breadth(active_users: int, known_users: int) -> Decimal | None:
    """Share of the customer's known users active in the window."""
    return _percent(active_users, known_users)


def health_depth(key_features_used: int, key_features: int) -> Decimal | None:
    """Share of the key features the customer used in the window."""
    return _percent(key_features_used, key_features)


def health_sentiment(latest_nps_per_contact: list[int]) -> Decimal | None:
    """10 × the mean of each contact's latest NPS score (0–10 becomes 0–100)."""
    if not latest_nps_per_contact:
        return None
    return Decimal(10) * Decimal(sum(latest_nps_per_contact)) / len(latest_nps_per_contact)


def health_support(first_contact: int, resolved_with_count: int) -> Decimal | None:
    """Share of the resolved tickets (with a known contact count) solved at first contact."""
    return _percent(first_contact, resolved_with_count)


def health_growth(mrr: Decimal, mrr_before: Decimal) -> Decimal | None:
    """50 + 50 × the MRR change since `mrr_before`, clamped to ±100 %; None without MRR before."""
    if mrr_before <= 0:
        return None
    return 50 + 50 * clamp((mrr - mrr_before) / mrr_before, Decimal(-1), ONE)


def health_csm_rating(rating: int | None) -> Decimal | None:
    """A CSM's 1–5 rating as 0–100."""
    return None if rating is None else Decimal(25) * (rating - 1)


def health_score(components: Mapping[str, tuple[Decimal | None, Decimal]]) -> Decimal | None:
    """Weighted mean of the components with data, rounded to one decimal; None when none has data.

    `components` maps a name to (score 0–100 or None, weight). Components without data are
    left out and the other weights rescaled.
    """
    present = [(score, weight) for score, weight in components.values() if score is not None]
    total_weight = sum((w for _, w in present), ZERO)
    if not present or total_weight == 0:
        return None
    score = sum((s * w for s, w in present), ZERO) / total_weight
    return score.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def health_band(score: Decimal | None) -> str | None:
    """Return the band of a health score (healthy from 70, neutral from 40, else at risk); None without one."""
    if score is None:
        return None
    if score >= HEALTHY_MIN:
        return HEALTHY
    if score >= NEUTRAL_MIN:
        return NEUTRAL
    return AT_RISK


# --- Cohorts and lost revenue ----------------------------------------------------------


def cohort_retention(start_mrr: Mapping, mrr_then: Mapping) -> tuple[Kpi, Kpi]:
    """Logo and revenue retention of one sign-up cohort at one age.

    `start_mrr` maps each customer of the cohort to its MRR on its first paying day (the
    keys are the cohort); `mrr_then` maps customers to their MRR on the day measured
    (others may appear and are ignored). Logo retention: cohort customers still paying
    over cohort size. Revenue retention: their MRR then over their MRR at start (above
    1 when expansion outweighs churn and contraction).
    """
    paying = [c for c in start_mrr if mrr_then.get(c, ZERO) > 0]
    logo = ratio(len(paying), len(start_mrr), "no customer signed up in this month")
    revenue = ratio(
        sum((mrr_then.get(c, ZERO) for c in start_mrr), ZERO),
        sum(start_mrr.values(), ZERO),
        "the cohort started without MRR",
    )
    return logo, revenue


def lost_mrr_by_reason(lost: Mapping, reasons: Mapping) -> dict:
    """Sum lost MRR per reason: `lost` maps a customer to the MRR it lost (churn or contraction),
    `reasons` a customer to its reason (absent or None: no reason given, summed under None)."""
    totals: dict = {}
    for customer, value in lost.items():
        reason = reasons.get(customer)
        totals[reason] = totals.get(reason, ZERO) + value
    return totals


def expected_renewal_mrr(committed: Decimal, churn_rate: Decimal | None) -> Kpi:
    """Committed renewal MRR × (1 − the churn rate within 90 days of its health band), or None without a rate."""
    if churn_rate is None:
        return Kpi(None, reason="no backtest gives this health band a churn rate")
    return Kpi(committed * (ONE - churn_rate), committed, churn_rate)


def pooled_ratio(parts: Iterable[Kpi], reason: str) -> Kpi:
    """One ratio of several: Σ numerators / Σ denominators (a size-weighted mean), e.g. the retention of
    every cohort at one age taken together."""
    parts = [p for p in parts if p.denominator is not None]
    return ratio(sum((p.numerator for p in parts), ZERO), sum((p.denominator for p in parts), ZERO), reason)
