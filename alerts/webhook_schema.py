"""The messages our webhooks send, described for the OpenAPI schema's `webhooks` (OpenAPI 3.1).

alerts.webhooks sends every message as {"type", "timestamp", "data"}, signed after the
Standard Webhooks spec; alerts.services (`alert.fired`) and alerts.playbooks
(`playbook.step`) build the data. These serializers only describe it, so a receiver can
be generated from the schema; tests/test_api_schema.py checks real messages against them.
Settings SPECTACULAR_SETTINGS["WEBHOOKS"] lists the webhooks below.
"""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    OpenApiWebhook,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers

from alerts.models import AlertRule
from lib.schema import const_field
from metrics.kpis import HEALTH_BANDS

# --- alert.fired: what matched, per rule kind (alerts.conditions) --------------------------


class BandDropDetailsSerializer(serializers.Serializer):
    """band_drop: the health band fell week over week."""

    from_band = serializers.ChoiceField(choices=list(HEALTH_BANDS))
    to_band = serializers.ChoiceField(choices=list(HEALTH_BANDS))
    score = serializers.CharField(help_text="The health score now, a decimal as a string.")


class ScoreDropDetailsSerializer(serializers.Serializer):
    """score_drop: the health score fell by at least the rule's points in a week."""

    from_score = serializers.CharField(help_text="A decimal as a string.")
    score = serializers.CharField(help_text="A decimal as a string.")
    drop = serializers.CharField(help_text="A decimal as a string.")


class UsageDropDetailsSerializer(serializers.Serializer):
    """usage_drop: active user-days fell by at least the rule's percentage week over week."""

    user_days = serializers.IntegerField()
    user_days_week_before = serializers.IntegerField()
    drop_pct = serializers.IntegerField()


class RenewalDetailsSerializer(serializers.Serializer):
    """renewal: a paying subscription ends within the rule's days."""

    renewal_on = serializers.DateField()


class DetractorDetailsSerializer(serializers.Serializer):
    """detractor: an NPS answer of 0–6 in the last week."""

    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True, help_text="Its first 300 characters.")


class TicketOpenDetailsSerializer(serializers.Serializer):
    """ticket_open: tickets open for longer than the rule's days."""

    open_tickets = serializers.IntegerField()
    oldest_opened_on = serializers.DateField()


class ChurnRiskDetailsSerializer(serializers.Serializer):
    """churn_risk: the churn model's probability is at least the rule's percentage."""

    probability = serializers.CharField(help_text="0–1 with three decimals, as a string.")
    mrr_at_risk = serializers.CharField(help_text="A decimal as a string.")
    model = serializers.CharField(help_text="The churn model that scored it.")


DETAILS = {
    AlertRule.Kind.BAND_DROP: BandDropDetailsSerializer,
    AlertRule.Kind.SCORE_DROP: ScoreDropDetailsSerializer,
    AlertRule.Kind.USAGE_DROP: UsageDropDetailsSerializer,
    AlertRule.Kind.RENEWAL: RenewalDetailsSerializer,
    AlertRule.Kind.DETRACTOR: DetractorDetailsSerializer,
    AlertRule.Kind.TICKET_OPEN: TicketOpenDetailsSerializer,
    AlertRule.Kind.CHURN_RISK: ChurnRiskDetailsSerializer,
}
assert set(DETAILS) == set(AlertRule.Kind), "a rule kind without the schema of its details"


class AlertRuleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices, help_text="Says which shape `details` has.")


class AlertCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()


class AlertFiredDataSerializer(serializers.Serializer):
    alert_id = serializers.IntegerField()
    rule = AlertRuleRefSerializer()
    customer = AlertCustomerSerializer()
    fired_on = serializers.DateField()
    details = PolymorphicProxySerializer(
        component_name="AlertDetails",
        serializers=[serializer() for serializer in DETAILS.values()],
        resource_type_field_name=None,
    )


# --- playbook.step: a playbook's webhook step (alerts.playbooks) ---------------------------


class PlaybookCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PlaybookStepDataSerializer(serializers.Serializer):
    playbook = serializers.CharField(help_text="The playbook's name.")
    run_id = serializers.IntegerField()
    customer = PlaybookCustomerSerializer()


# --- The envelope and the webhooks --------------------------------------------------------


def _message(name, event_type, data, doc):
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": doc,
            "type": const_field(event_type, "The event type."),
            "timestamp": serializers.DateTimeField(help_text="When the message was made; the same in every retry."),
            "data": data(),
        },
    )


AlertFiredMessageSerializer = _message(
    "AlertFiredMessageSerializer", "alert.fired", AlertFiredDataSerializer, "An alert rule matched a customer."
)
PlaybookStepMessageSerializer = _message(
    "PlaybookStepMessageSerializer", "playbook.step", PlaybookStepDataSerializer, "A playbook run reached a webhook step."
)

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The message id, the same in every retry: drop a message whose id you have seen.",
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "schema": {"type": "integer"},
        "description": "Seconds since 1970 at this attempt; refuse messages far from your clock.",
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": '"v1,<base64>": HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}" with the '
        'base64-decoded part of the webhook\'s "whsec_…" secret (Standard Webhooks).',
    },
]
RECEIVED = {
    200: OpenApiResponse(
        description="Any 2xx answer within 10 seconds means delivered; anything else is retried with backoff."
    )
}


def _webhook(name, message, summary, example):
    return OpenApiWebhook(
        name=name,
        decorator=extend_schema(
            summary=summary,
            description="Sent as a signed POST to the URL of a webhook set up in admin (Alerts › Webhooks).",
            request=message,
            responses=RECEIVED,
            examples=[OpenApiExample(name, value=example)],
        ),
    )


ALERT_FIRED = _webhook(
    "alert.fired",
    AlertFiredMessageSerializer,
    "An alert rule matched a customer",
    {
        "type": "alert.fired",
        "timestamp": "2024-03-04T06:00:00+00:00",
        "data": {
            "alert_id": 17,
            "rule": {"id": 3, "name": "Renewal soon", "kind": "renewal"},
            "customer": {"id": 42, "external_id": "ACME", "name": "Acme"},
            "fired_on": "2024-03-04",
            "details": {"renewal_on": "2024-03-20"},
        },
    },
)
PLAYBOOK_STEP = _webhook(
    "playbook.step",
    PlaybookStepMessageSerializer,
    "A playbook run reached a webhook step",
    {
        "type": "playbook.step",
        "timestamp": "2024-03-07T09:00:00+00:00",
        "data": {"playbook": "Save the account", "run_id": 5, "customer": {"id": 42, "name": "Acme"}},
    },
)


def add_signature_headers(result, generator, request, public):
    """Postprocessing hook: document the signature headers of every webhook (drf-spectacular has
    no parameters for webhooks)."""
    for item in result.get("webhooks", {}).values():
        for operation in item.values():
            operation["parameters"] = SIGNATURE_HEADERS
    return result
