"""Versions of the health model: create (never edit), publish after a backtest, pick per segment.

A `HealthModel` row is immutable; a change is a new row with the next version number,
as a draft. Publishing needs a stored backtest of that very version (an admin has seen
how it would have predicted churn) and retires the segment's previously published one.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts import reporting_time
from metrics import health
from metrics.models import BacktestRun, CsmRating, HealthModel

COMPONENTS = (*health.DEFAULT_WEIGHTS, *health.OPTIONAL_COMPONENTS)


class PublishError(Exception):
    """The version cannot be published (no backtest yet, or not a draft)."""


def definition_of(model: HealthModel) -> health.Definition:
    """Return the pure definition a model version scores with."""
    return health.Definition(
        weights={name: Decimal(str(model.weights.get(name, 0))) for name in COMPONENTS},
        target_active_days=Decimal(model.target_active_days),
        key_features=tuple(model.key_features or ()),
        label=model.label,
    )


def clean_weights(weights) -> dict:
    """Return the weights of every known component as numbers ≥ 0 (missing ones are 0).

    Raises ValueError, with a message for the person who typed them, for anything else.
    """
    if not isinstance(weights, dict):
        raise ValueError(f"weights must be an object of component weights, e.g. {{\"{COMPONENTS[0]}\": 30}}")
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise ValueError(f"unknown components {', '.join(map(str, unknown))}; known: {', '.join(COMPONENTS)}")
    cleaned = {}
    for name in COMPONENTS:
        raw = weights.get(name, 0) or 0
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
            raise ValueError(f"weight of {name} must be a number")
        try:
            value = Decimal(str(raw))
        except ArithmeticError:
            raise ValueError(f"weight of {name} must be a number") from None
        if not value.is_finite() or value.adjusted() > 5:
            raise ValueError(f"weight of {name} must be a number below 1,000,000")
        if value < 0:
            raise ValueError(f"weight of {name} must not be negative")
        cleaned[name] = int(value) if value == value.to_integral() else float(value)
    if not any(cleaned.values()):
        raise ValueError("at least one weight must be above 0")
    return cleaned


def clean_key_features(key_features) -> list[str]:
    """Return the key features as a list of event types (raises ValueError for anything else)."""
    if not isinstance(key_features, (list, tuple)) or not all(isinstance(k, str) and k.strip() for k in key_features):
        raise ValueError('key features must be a list of event types, e.g. ["report_created"]')
    return [k.strip() for k in key_features]


@transaction.atomic
def model_version_create(
    *, weights: dict, target_active_days: int = 12, key_features=(), segment: str = "", name: str = "Default",
    based_on: HealthModel | None = None, user=None, status: str = HealthModel.Status.DRAFT,
) -> HealthModel:  # fmt: skip
    """Add the next version of the segment's model as a new row (a draft unless told otherwise)."""
    latest = HealthModel.objects.select_for_update().filter(segment=segment).aggregate(v=Max("version"))["v"]
    return HealthModel.objects.create(
        name=name,
        segment=segment,
        version=(latest or 0) + 1,
        weights=clean_weights(weights),
        target_active_days=target_active_days,
        key_features=clean_key_features(list(key_features)),
        status=status,
        published_at=timezone.now() if status == HealthModel.Status.PUBLISHED else None,
        created_by=user,
        based_on=based_on,
    )


def default_model() -> HealthModel:
    """Return the published all-segment model; the first time, publish version 1 from the settings.

    Version 1 is the spec's default, so the daily snapshots run from the first day without
    an admin step; every later version goes through a backtest.
    """
    model = HealthModel.objects.filter(segment="", status=HealthModel.Status.PUBLISHED).first()
    if model is not None:
        return model
    if HealthModel.objects.filter(segment="").exists():
        raise PublishError("no published health model: publish one from the backtest page")
    defaults = health.default_definition()
    return model_version_create(
        weights={k: str(v) for k, v in defaults.weights.items()},
        target_active_days=int(defaults.target_active_days),
        key_features=defaults.key_features,
        status=HealthModel.Status.PUBLISHED,
    )


@transaction.atomic
def model_publish(*, model: HealthModel, user=None) -> HealthModel:
    """Publish a backtested draft and retire the segment's published version."""
    model = HealthModel.objects.select_for_update().get(pk=model.pk)
    if model.status != HealthModel.Status.DRAFT:
        raise PublishError("only a draft can be published")
    if not BacktestRun.objects.filter(model=model).exists():
        raise PublishError("run a backtest of this version before publishing it")
    # save(), not update(): the audit history (django-simple-history) records the retirement
    for retired in HealthModel.objects.filter(segment=model.segment, status=HealthModel.Status.PUBLISHED):
        retired.status = HealthModel.Status.RETIRED
        retired.save(update_fields=["status"])
    model.status = HealthModel.Status.PUBLISHED
    model.published_at = timezone.now()
    model.save(update_fields=["status", "published_at"])
    return model


def published_models() -> tuple[dict[str, HealthModel], HealthModel]:
    """Return ({segment: its published model}, the model of every other customer)."""
    published = {m.segment: m for m in HealthModel.objects.filter(status=HealthModel.Status.PUBLISHED)}
    return published, published.get("") or default_model()


def models_for_customers(customers: dict[int, str]) -> list[tuple[HealthModel, list[int]]]:
    """Group {customer id: segment} by the published model that scores them (own segment's, else default)."""
    published, fallback = published_models()
    groups: dict[int, tuple[HealthModel, list[int]]] = {}
    for customer_id, segment in customers.items():
        model = published.get(segment) or fallback
        groups.setdefault(model.pk, (model, []))[1].append(customer_id)
    return list(groups.values())



RATING_DAYS = 90


def csm_rating_add(*, customer, author, rating: int, comment: str, now=None) -> CsmRating:
    """Record a CSM's 1–5 rating of a customer; it counts for 90 days."""
    now = now or timezone.now()
    return CsmRating.objects.create(
        customer=customer, author=author, rating=rating, comment=comment, created_at=now,
        expires_on=reporting_time.today(now) + datetime.timedelta(days=RATING_DAYS),
    )  # fmt: skip
