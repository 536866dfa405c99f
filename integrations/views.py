"""The integrations' HTTP endpoints: Segment-spec source, Stripe and Zendesk webhooks, the admin page.

Views only read the request and answer; what a message means is decided in the module of
its system (`segment`, `stripe`, `zendesk`).
"""

import base64
import binascii

import stripe as stripe_lib
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.policy import may_manage_configuration
from integrations import config, inbound, segment, services, stripe, zendesk
from integrations.forms import ConnectionForm
from integrations.models import ChatChannel, Connection, InboundEvent, Kind
from integrations.webhooks import inbound_endpoint, refuse

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


@inbound_endpoint(Kind.SEGMENT)  # authorised by the write key, not by a session
def segment_source(request, body, call):
    kind = Kind.SEGMENT
    if call not in SEGMENT_CALLS:
        return refuse(request, kind, 404, f"unknown call {call!r}", body=body)
    try:
        data = inbound.json_body(body)
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc), body=body)
    if not isinstance(data, dict):
        return refuse(request, kind, 400, "the body must be a JSON object", body=body)
    key = _basic_user(request)
    if key is None:
        key = str(data.get("writeKey") or "")
    if not segment.write_key_matches(key):
        return refuse(request, kind, 401, "wrong or missing write key (send it as the HTTP basic auth user)")
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this source is switched off on the Integrations page", payload=data, counted=False)
    if SEGMENT_CALLS[call] == "batch":
        messages = data.get("batch")
        if not isinstance(messages, list):
            return refuse(request, kind, 400, "a batch needs a list 'batch'", payload=data, counted=False)
    else:
        messages = [{**data, "type": data.get("type") or SEGMENT_CALLS[call]}]
    result = segment.ingest(messages, request=request)
    if result.accepted:
        inbound.log_accepted(kind, SEGMENT_CALLS[call], f"{result.accepted} calls", request=request)
    return JsonResponse(result.as_json())


@inbound_endpoint(Kind.STRIPE)  # authorised by the Stripe-Signature header, checked with the stripe library
def stripe_webhook(request, body):
    kind = Kind.STRIPE
    try:
        event = stripe.construct_event(body, request.headers.get("Stripe-Signature", ""))
    except stripe_lib.SignatureVerificationError as exc:
        return refuse(request, kind, 401, f"the Stripe-Signature header does not match: {exc}", body=body)
    except (stripe.Refused, ValueError) as exc:  # no secret set; a signed body that is not JSON
        return refuse(request, kind, 400, str(exc), body=body)
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this connection is switched off on the Integrations page", payload=event, counted=False)
    return JsonResponse(stripe.receive(event, request=request))


@inbound_endpoint(Kind.ZENDESK)  # authorised by Zendesk's webhook signature
def zendesk_webhook(request, body):
    kind = Kind.ZENDESK
    signature = request.headers.get("X-Zendesk-Webhook-Signature", "")
    timestamp = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
    if not zendesk.signature_ok(body, signature, timestamp):
        return refuse(request, kind, 401, "the X-Zendesk-Webhook-Signature does not match (or is older than 5 minutes)", body=body)
    try:
        payload = inbound.json_body(body)
    except inbound.BadRequest as exc:
        return refuse(request, kind, 400, str(exc), body=body, counted=False)
    if not isinstance(payload, dict):
        return refuse(request, kind, 400, "the body must be a JSON object", body=body, counted=False)
    if not config.enabled(kind):
        return refuse(request, kind, 403, "this connection is switched off on the Integrations page", payload=payload, counted=False)
    return JsonResponse(zendesk.receive(payload, request=request))


# --- The Integrations page (admins) ------------------------------------------------------


def _require_admin(request):
    if not may_manage_configuration(request.user):
        raise PermissionDenied


def _page(request, *, forms=None, new_secret=None, status=200):
    connections = {c.kind: c for c in Connection.objects.all()}
    forms = forms or {}
    for kind, _label in Kind.choices:
        if kind not in forms:
            stored = connections.get(kind)
            initial = {"enabled": stored is None or stored.enabled}
            forms[kind] = ConnectionForm(kind, initial=initial, stored={**(stored.options if stored else {}), **(stored.secrets if stored else {})})
    context = {
        "statuses": [(status_, forms[status_.kind]) for status_ in services.statuses()],
        "new_secret": new_secret,
        "endpoints": {
            Kind.SEGMENT: request.build_absolute_uri("/integrations/segment"),
            Kind.STRIPE: request.build_absolute_uri("/integrations/stripe/webhook"),
            Kind.ZENDESK: request.build_absolute_uri("/integrations/zendesk/webhook"),
            Kind.OIDC: services.sso_callback_url(request),
        },
        "channels": ChatChannel.objects.select_related("user"),
        "deliveries": services.recent_chat_deliveries(),
    }
    return render(request, "integrations/settings.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def settings_page(request):
    _require_admin(request)
    return _page(request)


@login_required
@require_POST
def connection_save(request, kind):
    _require_admin(request)
    if kind not in Kind.values:
        raise Http404("No such connection.")
    form = ConnectionForm(kind, request.POST)
    if not form.is_valid():
        return _page(request, forms={kind: form}, status=400)
    config.store(kind, form.cleaned_data, enabled=form.cleaned_data["enabled"])
    messages.success(request, _("%(connection)s saved.") % {"connection": Kind(kind).label})
    return redirect("integrations:settings")


@login_required
@require_POST
def write_key_new(request):
    """Make a new Segment write key and show it on this answer only (it is never shown again)."""
    _require_admin(request)
    key = config.generate_secret(Kind.SEGMENT, "write_key", prefix="wk_")
    return _page(request, new_secret=key)


@login_required
@require_POST
def event_replay(request, pk):
    _require_admin(request)
    event = get_object_or_404(InboundEvent, pk=pk)
    try:
        outcome = services.replay(event)
    except services.ReplayError as exc:
        messages.error(request, _("Replay failed: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Replayed: %(outcome)s") % {"outcome": outcome})
    return redirect("integrations:settings")
