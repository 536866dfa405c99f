"""JSON shapes of the KPI and health endpoints, as the OpenAPI schema describes them.

The endpoints build their answers with metrics.presenters, metrics.rows and
metrics.health.health_json; these serializers only describe those answers (nothing is
serialized through them), so generated clients get a type for every figure, row and
score. tests/test_api_schema.py checks real answers against them, field by field.
"""

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import CostEntry
from lib.schema import const_field
from metrics import catalogue, kpis
from metrics.health import DEFAULT_WEIGHTS, OPTIONAL_COMPONENTS
from metrics.presenters import shape_of
from metrics.rows import MOVEMENT_KEYS
from metrics.selectors import KPI_KEYS

MOVEMENTS = tuple(MOVEMENT_KEYS.values())
NUMBER = {"allow_null": True, "help_text": "Rounded to 6 decimal places; null when undefined (see reason)."}


def _decimal(**kwargs):
    """A decimal amount sent as a string, e.g. "1234.5"."""
    return serializers.DecimalField(max_digits=24, decimal_places=6, coerce_to_string=True, **kwargs)


# --- Period, scope and one figure ----------------------------------------------------------


class KpiPeriodSerializer(serializers.Serializer):
    """A half-open period: from `start` (inclusive) to `end` (exclusive), days in the reporting time zone."""

    start = serializers.DateField()
    end = serializers.DateField(help_text="The day after the period's last day.")


class KpiScopeSerializer(serializers.Serializer):
    """Which customers the figures cover: all of them when every field is null, else one customer, segment or CSM."""

    customer = serializers.IntegerField(allow_null=True)
    segment = serializers.CharField(allow_null=True)
    csm = serializers.CharField(allow_null=True, help_text="Username of the CSM whose portfolio is covered.")


class KpiAmountSerializer(serializers.Serializer):
    """A count or a sum of money (in the reporting currency): always defined."""

    value = serializers.FloatField(**NUMBER)
    reason = serializers.CharField(required=False, help_text="Why the value is null; present only then.")


class KpiRatioSerializer(KpiAmountSerializer):
    """A ratio or an average, with what it was computed from: value = numerator / denominator."""

    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)


class KpiNpsSerializer(KpiAmountSerializer):
    """Net Promoter Score (−100…100) with the answers it counts."""

    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    responses = serializers.IntegerField()


class KpiClvSerializer(KpiRatioSerializer):
    """Customer lifetime value: ARPU × gross margin (numerator) / monthly churn (denominator)."""

    monthly_churn = serializers.FloatField(required=False, help_text="Present when the value is defined.")


class KpiFeatureAdoptionSerializer(KpiRatioSerializer):
    """The mean share of active customers using each feature, with each feature's share."""

    features = serializers.DictField(child=KpiRatioSerializer(), help_text="Per event type.")


class KpiOnboardingDropOffSerializer(KpiRatioSerializer):
    """The share of new customers who did not finish onboarding, with the drop-off at each step."""

    steps = serializers.DictField(
        child=KpiRatioSerializer(), required=False, help_text="Per configured onboarding step, in order."
    )


SHAPE_SERIALIZERS = {
    "amount": KpiAmountSerializer,
    "ratio": KpiRatioSerializer,
    "nps": KpiNpsSerializer,
    "clv": KpiClvSerializer,
    "feature_adoption": KpiFeatureAdoptionSerializer,
    "onboarding_drop_off": KpiOnboardingDropOffSerializer,
}

KpisSerializer = type(
    "KpisSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The figures asked for (`keys`; all by default), by key. Units (docs/kpis.md; money is in "
        "the reporting currency, a ratio a fraction): "
        + "; ".join(f"{key}: {catalogue.unit(key)}" for key in KPI_KEYS)
        + ".",
        **{key: SHAPE_SERIALIZERS[shape_of(key)](required=False) for key in KPI_KEYS},
    },
)

REPORT_EXAMPLE = {
    "period": {"start": "2024-02-01", "end": "2024-03-01"},
    "scope": {"customer": None, "segment": None, "csm": None},
    "definition_version": "1-3f2a9c1b",
    "quality": {"status": "ok", "issues": 0, "checks": {}},
    "kpis": {
        "logo_churn_rate": {"value": 0.5, "numerator": 2, "denominator": 4},
        "mrr": {"value": 400},
        "nps": {"value": 20, "promoters": 5, "passives": 2, "detractors": 3, "responses": 10},
        "csat": {"value": None, "numerator": 0, "denominator": 0, "reason": "no CSAT responses in the period"},
    },
}


@extend_schema_serializer(examples=[OpenApiExample("February 2024", value=REPORT_EXAMPLE, response_only=True)])
class KpiQualitySerializer(serializers.Serializer):
    """The data-quality gate for the period (metrics.quality): open findings dated in it, by check."""

    status = serializers.ChoiceField(["ok", "warning"], help_text='"warning" while a finding is neither fixed nor accepted.')
    issues = serializers.IntegerField()
    checks = serializers.DictField(child=serializers.IntegerField(), help_text="Findings per check.")


class KpiReportSerializer(serializers.Serializer):
    """Every KPI asked for, for one period and scope; also each point of a series."""

    period = KpiPeriodSerializer()
    scope = KpiScopeSerializer()
    definition_version = serializers.CharField(help_text="Changes whenever a formula or a setting it uses changes.")
    kpis = KpisSerializer()
    quality = KpiQualitySerializer()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "MRR by month",
            value={
                "interval": "month",
                "series": [
                    {**REPORT_EXAMPLE, "period": {"start": "2024-01-01", "end": "2024-02-01"}, "kpis": {"mrr": {"value": 660}}},
                    {**REPORT_EXAMPLE, "kpis": {"mrr": {"value": 400}}},
                ],
            },
            response_only=True,
        )
    ]
)
class KpiSeriesSerializer(serializers.Serializer):
    """The report for each day, week, month or quarter of the period (the first and last may be cut short)."""

    interval = serializers.ChoiceField(choices=["day", "week", "month", "quarter"])
    series = KpiReportSerializer(many=True)


class KpiSnapshotExtraSerializer(serializers.Serializer):
    """What a stored figure carries besides its value: NPS answer counts, CLV's churn, breakdowns."""

    promoters = serializers.IntegerField(required=False)
    passives = serializers.IntegerField(required=False)
    detractors = serializers.IntegerField(required=False)
    responses = serializers.IntegerField(required=False)
    monthly_churn = serializers.CharField(required=False, help_text="A decimal as a string.")
    features = serializers.DictField(child=KpiRatioSerializer(), required=False)
    steps = serializers.DictField(child=KpiRatioSerializer(), required=False)


@extend_schema_field(KpiSnapshotExtraSerializer)
class KpiSnapshotExtraField(serializers.JSONField):
    """A snapshot's `extra`, as stored (metrics.snapshots)."""


# --- The rows behind a figure ----------------------------------------------------------------


def _kind(value: str):
    return const_field(value, "The kind of this row.")


class CustomerMovementRowSerializer(serializers.Serializer):
    """A customer paying at the start or the end of the period: MRR then and now, and what moved."""

    kind = _kind("customer_movement")
    customer_id = serializers.IntegerField()
    customer = serializers.CharField(allow_null=True, help_text="The customer's name.")
    mrr_opening = _decimal(help_text="MRR at the start of the period.")
    mrr = _decimal(help_text="MRR at the end of the period.")
    paying_at_start = serializers.BooleanField()
    paying_at_end = serializers.BooleanField()
    movement = serializers.ChoiceField(choices=MOVEMENTS, allow_null=True)
    movement_amount = _decimal(allow_null=True)


class NewCustomerRowSerializer(serializers.Serializer):
    """A customer whose first paying subscription started in the period."""

    kind = _kind("new_customer")
    customer_id = serializers.IntegerField()
    customer = serializers.CharField(help_text="The customer's name.")
    first = serializers.DateField(help_text="Start of the first paying subscription.")


class CostEntryRowSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month.")
    category = serializers.ChoiceField(choices=CostEntry.Category.choices)
    amount = serializers.FloatField(help_text="In the reporting currency.")


class CostRowSerializer(serializers.Serializer):
    """A cost entry counted in the figure (acquisition or retention costs)."""

    kind = _kind("cost")
    cost = CostEntryRowSerializer()


class LeadRowSerializer(serializers.Serializer):
    """A lead created in the period."""

    kind = _kind("lead")
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    converted_at = serializers.DateTimeField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)


class TrialRowSerializer(serializers.Serializer):
    """A customer whose first trial started in the period."""

    kind = _kind("trial")
    id = serializers.IntegerField()
    name = serializers.CharField()
    first_trial = serializers.DateField()
    converted = serializers.BooleanField()


class SignupRowSerializer(serializers.Serializer):
    """A customer created in the period (the onboarding cohort)."""

    kind = _kind("signup")
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_on = serializers.DateField()


class SurveyResponseRowSerializer(serializers.Serializer):
    """A survey answer counted in NPS, CSAT or CES (lowest scores first)."""

    kind = _kind("survey_response")
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer__name = serializers.CharField()
    contact_id = serializers.IntegerField(allow_null=True)
    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)
    responded_at = serializers.DateTimeField()


class TicketRowSerializer(serializers.Serializer):
    """A ticket resolved in the period with a known number of contacts."""

    kind = _kind("ticket")
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    customer_id = serializers.IntegerField()
    customer__name = serializers.CharField()
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField()
    contacts_count = serializers.IntegerField()


class SessionRowSerializer(serializers.Serializer):
    """A usage session started in the period."""

    kind = _kind("session")
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    contact__external_id = serializers.CharField()
    session_key = serializers.CharField(allow_blank=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    events = serializers.IntegerField()
    duration_seconds = serializers.FloatField()


class FeatureRowSerializer(serializers.Serializer):
    """An event type: how many customers used it in the period, with how many events."""

    kind = _kind("feature")
    event_type = serializers.CharField()
    customers = serializers.IntegerField()
    events = serializers.IntegerField()


class ActiveUserRowSerializer(serializers.Serializer):
    """A user active in the period: on how many days, with how many events."""

    kind = _kind("active_user")
    customer_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    contact__external_id = serializers.CharField()
    active_days = serializers.IntegerField()
    events = serializers.IntegerField()


ROW_SERIALIZERS = {
    "customer_movement": CustomerMovementRowSerializer,
    "new_customer": NewCustomerRowSerializer,
    "cost": CostRowSerializer,
    "lead": LeadRowSerializer,
    "trial": TrialRowSerializer,
    "signup": SignupRowSerializer,
    "survey_response": SurveyResponseRowSerializer,
    "ticket": TicketRowSerializer,
    "session": SessionRowSerializer,
    "feature": FeatureRowSerializer,
    "active_user": ActiveUserRowSerializer,
}
ROW_SHAPES = {kpi.row_shape for kpi in catalogue.CATALOGUE}
assert set(ROW_SERIALIZERS) == {*ROW_SHAPES, "cost"}, "a row kind without its schema"

KPI_ROW = PolymorphicProxySerializer(
    component_name="KpiRow",
    serializers={kind: serializer() for kind, serializer in ROW_SERIALIZERS.items()},
    resource_type_field_name="kind",
    many=False,
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "The customers behind logo churn",
            value={
                "count": 2,
                "next": None,
                "previous": None,
                "results": [
                    {"kind": "customer_movement", "customer_id": 2, "customer": "Customer B", "mrr_opening": "200",
                     "mrr": "0", "paying_at_start": True, "paying_at_end": False, "movement": "churn",
                     "movement_amount": "200"},
                    {"kind": "customer_movement", "customer_id": 6, "customer": "Customer F", "mrr_opening": "60",
                     "mrr": "0", "paying_at_start": True, "paying_at_end": False, "movement": "churn",
                     "movement_amount": "60"},
                ],
            },
            response_only=True,
        )
    ]
)  # fmt: skip
class KpiRowsPageSerializer(serializers.Serializer):
    """One page of the rows behind a figure (`limit` and `offset`)."""

    count = serializers.IntegerField(help_text="Rows in all pages.")
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page; null on the first.")
    results = serializers.ListField(child=KPI_ROW)


# --- Health ----------------------------------------------------------------------------------


def _score(**kwargs):
    return serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=True, allow_null=True, **kwargs)


class FrequencyInputsSerializer(serializers.Serializer):
    active_user_days = serializers.IntegerField()
    active_users = serializers.IntegerField()
    target_days = serializers.IntegerField()


class BreadthInputsSerializer(serializers.Serializer):
    active_users = serializers.IntegerField()
    known_users = serializers.IntegerField()


class DepthInputsSerializer(serializers.Serializer):
    key_features_used = serializers.IntegerField()
    key_features = serializers.IntegerField()


class SentimentInputsSerializer(serializers.Serializer):
    latest_nps_per_contact = serializers.ListField(child=serializers.IntegerField())


class SupportInputsSerializer(serializers.Serializer):
    first_contact = serializers.IntegerField(help_text="Tickets resolved at the first contact.")
    resolved_with_count = serializers.IntegerField(help_text="Tickets resolved with a known contact count.")


class GrowthInputsSerializer(serializers.Serializer):
    mrr = serializers.CharField(help_text="MRR on the day, a decimal as a string.")
    mrr_90_days_before = serializers.CharField(help_text="MRR 90 days before, a decimal as a string.")


class CsmRatingInputsSerializer(serializers.Serializer):
    rating = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)


HEALTH_INPUTS = {
    "frequency": FrequencyInputsSerializer,
    "breadth": BreadthInputsSerializer,
    "depth": DepthInputsSerializer,
    "sentiment": SentimentInputsSerializer,
    "support": SupportInputsSerializer,
    "growth": GrowthInputsSerializer,
    "csm_rating": CsmRatingInputsSerializer,
}
assert set(HEALTH_INPUTS) == {*DEFAULT_WEIGHTS, *OPTIONAL_COMPONENTS}, "a health component without its schema"


def _component(name, inputs):
    return type(
        f"Health{name.title().replace('_', '')}Serializer",
        (serializers.Serializer,),
        {
            "__doc__": f"The {name.replace('_', ' ')} component: its score (0–100, null without data), weight and inputs.",
            "score": _score(),
            "weight": serializers.CharField(help_text="Its weight in the score, a decimal as a string."),
            "inputs": inputs(),
        },
    )


HealthComponentsSerializer = type(
    "HealthComponentsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Each component of the score; csm_rating only in health models that weigh it.",
        **{name: _component(name, inputs)(required=name in DEFAULT_WEIGHTS) for name, inputs in HEALTH_INPUTS.items()},
    },
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A healthy customer",
            value={
                "score": "81.5",
                "band": "healthy",
                "components": {
                    "frequency": {"score": "90.0", "weight": "25", "inputs": {"active_user_days": 54, "active_users": 5, "target_days": 12}},
                    "breadth": {"score": "71.4", "weight": "20", "inputs": {"active_users": 5, "known_users": 7}},
                    "depth": {"score": "75.0", "weight": "20", "inputs": {"key_features_used": 3, "key_features": 4}},
                    "sentiment": {"score": "90.0", "weight": "15", "inputs": {"latest_nps_per_contact": [9, 10]}},
                    "support": {"score": "100.0", "weight": "10", "inputs": {"first_contact": 2, "resolved_with_count": 2}},
                    "growth": {"score": "60.0", "weight": "10", "inputs": {"mrr": "500", "mrr_90_days_before": "450"}},
                },
                "definition_version": "v1",
            },
            response_only=True,
        )
    ]
)  # fmt: skip
class HealthSerializer(serializers.Serializer):
    """A customer's health score at the start of a day, with each component's score, weight and inputs."""

    score = _score(help_text="0–100, one decimal; null when no component has data.")
    band = serializers.ChoiceField(choices=list(kpis.HEALTH_BANDS), allow_null=True)
    components = HealthComponentsSerializer()
    definition_version = serializers.CharField(help_text="The health model that scored it.")
