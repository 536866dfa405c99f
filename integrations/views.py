"""The integrations' HTTP endpoints: Segment-spec source, Stripe and Zendesk webhooks, the admin page.

Views only read the request and answer; what a message means is decided in the module of
its system (`segment`, `stripe`, `zendesk`).
"""

import base64
import binascii

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import stripe as stripe_lib

from integrations import config, inbound, segment, stripe, zendesk
from integrations.models import Kind
from integrations.webhooks import locked_out, refuse, too_many

SEGMENT_CALLS = {
    "batch": "batch", "import": "batch", "track": "track", "t": "track", "identify": "identify", "i": "identify",
    "group": "group", "g": "group", "page": "page", "p": "page", "screen": "screen", "s": "screen",
    "alias": "alias", "a": "alias",
}  # fmt: skip


def _basic_user(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


@csrf_exempt  # authorised by the write key, not by a session
@require_POST
def segment_source(request, call):
    kind = Kind.SEGMENT
    if call not in SEGMENT_CALLS:
        return JsonResponse({"success": False, "message": f"unknown call {call!r}"}, status=404)
    if locked_out(request, kind):
        return too_many(request, kind)
    try:
        body = inbound.body_bytes(request)
        data = inbound.json_body(body)
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc), body=request.body[: inbound.RAW_KEPT])
    if not isinstance(data, dict):
        return refuse(request, kind, 400, "the body must be a JSON object", body=body)
    key = _basic_user(request)
    if key is None:
        key = str(data.get("writeKey") or "")
    if not segment.write_key_matches(key):
        return refuse(request, kind, 401, "wrong or missing write key (send it as the HTTP basic auth user)")
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this source is switched off on the Integrations page", payload=data)
    if SEGMENT_CALLS[call] == "batch":
        messages = data.get("batch")
        if not isinstance(messages, list):
            return refuse(request, kind, 400, "a batch needs a list 'batch'", payload=data)
    else:
        messages = [{**data, "type": data.get("type") or SEGMENT_CALLS[call]}]
    result = segment.ingest(messages, request=request)
    if result.accepted:
        inbound.log_accepted(kind, SEGMENT_CALLS[call], f"{result.accepted} calls", request=request)
    return JsonResponse(result.as_json())


@csrf_exempt  # authorised by the Stripe-Signature header, checked with the stripe library
@require_POST
def stripe_webhook(request):
    kind = Kind.STRIPE
    if locked_out(request, kind):
        return too_many(request, kind)
    try:
        body = inbound.body_bytes(request)
        stripe.construct_event(body, request.headers.get("Stripe-Signature", ""))
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc))
    except stripe_lib.SignatureVerificationError as exc:
        return refuse(request, kind, 401, f"the Stripe-Signature header does not match: {exc}", body=body)
    except (stripe.Refused, ValueError) as exc:  # no secret set; a signed body that is not JSON
        return refuse(request, kind, 400, str(exc), body=body)
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this connection is switched off on the Integrations page", body=body)
    status, answer = stripe.receive(body, request.headers["Stripe-Signature"], request=request)
    return JsonResponse(answer, status=status)


@csrf_exempt  # authorised by Zendesk's webhook signature
@require_POST
def zendesk_webhook(request):
    kind = Kind.ZENDESK
    if locked_out(request, kind):
        return too_many(request, kind)
    try:
        body = inbound.body_bytes(request)
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc))
    signature = request.headers.get("X-Zendesk-Webhook-Signature", "")
    timestamp = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
    if not zendesk.signature_ok(body, signature, timestamp):
        return refuse(request, kind, 401, "the X-Zendesk-Webhook-Signature does not match (or is older than 5 minutes)", body=body)
    try:
        payload = inbound.json_body(body)
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc), body=body)
    if not isinstance(payload, dict):
        return refuse(request, kind, 400, "the body must be a JSON object", body=body)
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this connection is switched off on the Integrations page", payload=payload)
    return JsonResponse(zendesk.receive(payload, request=request))
