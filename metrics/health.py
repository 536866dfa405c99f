"""Health score of spec/kpis.md: this module gathers each component's inputs per customer
from aggregates; the component formulas and the weighted score are pure, in `metrics.kpis`.

`health_for_customers(ids, at, definition)` scores many customers with a fixed number of
queries (the portfolio page scores a whole portfolio at once, the backtest every paying
customer per date); every component carries the inputs it came from, so a CSM sees why a
score is low. A `Definition` is one version of the model (weights, target, key
features); without one, the settings give the default. The optional `csm_rating`
component (a CSM's own 1–5 rating, valid 90 days) counts only when its weight is above 0.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q

from accounts.models import Contact, Ticket
from metrics import kpis
from metrics.models import CsmRating, CustomerDayFeature, UserDayActivity
from metrics.periods import day_start
from metrics.selectors import Scope, mrr_by_customer
from surveys.models import SurveyResponse

WINDOW_DAYS = 30
SENTIMENT_DAYS = 180
GROWTH_DAYS = 90
TARGET_ACTIVE_DAYS = Decimal(12)
DEFAULT_WEIGHTS = {"frequency": 25, "breadth": 20, "depth": 20, "sentiment": 15, "support": 10, "growth": 10}
OPTIONAL_COMPONENTS = ("csm_rating",)


@dataclass(frozen=True)
class Definition:
    """One version of the health model: what `HealthModel` rows and the settings both become."""

    weights: dict  # component name → Decimal weight (csm_rating optional)
    target_active_days: Decimal = TARGET_ACTIVE_DAYS
    key_features: tuple = ()  # empty: every event type seen in the window
    label: str = "health-settings"


@dataclass
class Component:
    score: Decimal | None
    weight: Decimal
    inputs: dict = field(default_factory=dict)


@dataclass
class Health:
    customer_id: int
    at: datetime.date
    score: Decimal | None
    band: str | None
    components: dict[str, Component]


def default_definition() -> Definition:
    """The spec's default model (version 1): DEFAULT_WEIGHTS, 12 target days, CSPLATFORM_KEY_FEATURES.

    Weights are changed by a new version of the health model (admin, then backtest and
    publish), not by a setting, so every change is backtested before it scores anyone.
    """
    weights = {name: Decimal(weight) for name, weight in DEFAULT_WEIGHTS.items()}
    return Definition(weights, TARGET_ACTIVE_DAYS, tuple(settings.CSPLATFORM_KEY_FEATURES))


def _csm_ratings(ids, at) -> dict[int, tuple[int, str]]:
    """Return {customer: (rating, comment)} of the latest rating given before `at` and not yet expired."""
    rows = (
        CsmRating.objects.filter(customer_id__in=ids, created_at__lt=day_start(at), expires_on__gt=at)
        .order_by("created_at", "pk")
        .values_list("customer_id", "rating", "comment")
    )
    return {customer_id: (rating, comment) for customer_id, rating, comment in rows}  # the latest wins


def _latest_nps(ids, start_at, end_at) -> dict[int, list[int]]:
    """Return {customer: [latest NPS score of each contact]} for responses in [start_at, end_at)."""
    responses = (
        SurveyResponse.objects.filter(
            customer_id__in=ids, survey_type="nps", responded_at__gte=start_at, responded_at__lt=end_at
        )
        .order_by("responded_at", "pk")
        .values_list("pk", "customer_id", "contact_id", "score")
    )
    latest = {}
    for pk, customer_id, contact_id, score in responses:  # responses, a few per contact
        # A response without a contact stands for itself.
        latest[(customer_id, contact_id or f"response-{pk}")] = score
    scores = defaultdict(list)
    for (customer_id, _), score in latest.items():
        scores[customer_id].append(score)
    return scores


def health_for_customers(ids, at: datetime.date, definition: Definition | None = None) -> dict[int, Health]:
    """Score each customer in `ids` at the start of day `at` over the window [at − 30 days, at)."""
    ids = list(ids)
    definition = definition or default_definition()
    start = at - datetime.timedelta(days=WINDOW_DAYS)
    activity = {
        row["customer_id"]: row
        for row in UserDayActivity.objects.filter(customer_id__in=ids, day__gte=start, day__lt=at)
        .values("customer_id")
        .annotate(user_days=Count("pk"), users=Count("contact_id", distinct=True))
    }
    contacts = dict(  # the users known at `at`: a contact first seen later must not change a past score
        Contact.objects.known_at(day_start(at))
        .filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    features = CustomerDayFeature.objects.filter(day__gte=start, day__lt=at)
    key_features = list(definition.key_features) or sorted(
        set(features.values_list("event_type", flat=True).distinct())
    )
    used = dict(
        features.filter(customer_id__in=ids, event_type__in=key_features)
        .values("customer_id")
        .annotate(n=Count("event_type", distinct=True))
        .values_list("customer_id", "n")
    )
    nps_scores = _latest_nps(ids, day_start(at - datetime.timedelta(days=SENTIMENT_DAYS)), day_start(at))
    tickets = {
        row["customer_id"]: row
        for row in Ticket.objects.filter(
            customer_id__in=ids,
            resolved_at__gte=day_start(start),
            resolved_at__lt=day_start(at),
            contacts_count__isnull=False,
        )
        .values("customer_id")
        .annotate(total=Count("pk"), first=Count("pk", filter=Q(contacts_count=1)))
    }
    mrr_now = mrr_by_customer(Scope(), at, ids)
    mrr_before = mrr_by_customer(Scope(), at - datetime.timedelta(days=GROWTH_DAYS), ids)
    w = {name: Decimal(str(definition.weights.get(name, 0))) for name in (*DEFAULT_WEIGHTS, *OPTIONAL_COMPONENTS)}
    target = Decimal(definition.target_active_days)
    ratings = _csm_ratings(ids, at) if w["csm_rating"] > 0 else {}
    results = {}
    for customer_id in ids:  # one pass over customers, all inputs already aggregated
        act = activity.get(customer_id, {"user_days": 0, "users": 0})
        scores = nps_scores.get(customer_id, [])
        tix = tickets.get(customer_id, {"total": 0, "first": 0})
        before, now = mrr_before.get(customer_id, kpis.ZERO), mrr_now.get(customer_id, kpis.ZERO)
        components = {
            "frequency": Component(
                kpis.health_frequency(act["user_days"], act["users"], target),
                w["frequency"],
                {"active_user_days": act["user_days"], "active_users": act["users"], "target_days": int(target)},
            ),
            "breadth": Component(
                kpis.health_breadth(act["users"], contacts.get(customer_id, 0)),
                w["breadth"],
                {"active_users": act["users"], "known_users": contacts.get(customer_id, 0)},
            ),
            "depth": Component(
                kpis.health_depth(used.get(customer_id, 0), len(key_features)),
                w["depth"],
                {"key_features_used": used.get(customer_id, 0), "key_features": len(key_features)},
            ),
            "sentiment": Component(kpis.health_sentiment(scores), w["sentiment"], {"latest_nps_per_contact": scores}),
            "support": Component(
                kpis.health_support(tix["first"], tix["total"]),
                w["support"],
                {"first_contact": tix["first"], "resolved_with_count": tix["total"]},
            ),
            "growth": Component(
                kpis.health_growth(now, before), w["growth"], {"mrr": str(now), "mrr_90_days_before": str(before)}
            ),
        }
        if w["csm_rating"] > 0:
            rating, comment = ratings.get(customer_id, (None, ""))
            components["csm_rating"] = Component(
                kpis.health_csm_rating(rating), w["csm_rating"], {"rating": rating, "comment": comment}
            )
        score = kpis.health_score({name: (c.score, c.weight) for name, c in components.items()})
        results[customer_id] = Health(customer_id, at, score, kpis.health_band(score), components)
    return results


def customer_health(customer_id: int, at: datetime.date, definition: Definition | None = None) -> Health:
    return health_for_customers([customer_id], at, definition)[customer_id]


def health_json(health: Health, label: str) -> dict:
    """Shape a Health as the API and the snapshots store it (scores as strings, one decimal)."""

    def dec(value):
        return None if value is None else str(kpis.round_value(value, 1))

    return {
        "score": dec(health.score),
        "band": health.band,
        "components": {
            name: {"score": dec(c.score), "weight": str(c.weight), "inputs": c.inputs}
            for name, c in health.components.items()
        },
        "definition_version": label,
    }
