"""What every inbound endpoint shares: `inbound_endpoint`, refusing with a clear JSON error, a rate limit.

Inbound endpoints are exempt from CSRF because a session does not authorise them: each
checks its own credential (Segment's write key, Stripe's and Zendesk's signatures).
What an address sends before its credential passed (an unreadable body, a wrong key or
signature) is counted; past `CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT` the address gets
429 before anything else is looked at, so neither guessing nor flooding the log pays.
"""

import functools

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage, is_ratelimited

from integrations import inbound


def _rate(group, request):
    return settings.CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT


def locked_out(request, kind) -> bool:
    """Whether the address has used up its failed attempts (the limit's count reached)."""
    usage = get_usage(request, group=f"integrations.{kind}", key="ip", rate=_rate, increment=False)
    return usage is not None and usage["count"] >= usage["limit"]


def refuse(request, kind, status, message, *, body=b"", payload=None, counted=True) -> JsonResponse:
    """Answer `status` with `message` and log the refused message; `counted` ones (before the credential passed) count towards the limit."""
    if counted:
        is_ratelimited(request, group=f"integrations.{kind}", key="ip", rate=_rate, increment=True)
    inbound.log_refused(kind, message, payload=payload, raw=body, request=request)
    return JsonResponse({"success": False, "message": message}, status=status)


def too_many(request, kind) -> JsonResponse:
    return JsonResponse(
        {"success": False, "message": "too many failed attempts from this address; try again later"}, status=429
    )


def inbound_endpoint(kind):
    """A POST endpoint of `kind` without CSRF (its own credential authorises it): 429 past the limit,
    400 for a body that cannot be read; the view gets the body's bytes (gunzipped)."""

    def decorate(view):
        @csrf_exempt
        @require_POST
        @functools.wraps(view)
        def endpoint(request, *args, **kwargs):
            if locked_out(request, kind):
                return too_many(request, kind)
            try:
                body = inbound.body_bytes(request)
            except inbound.BadRequest as exc:
                return refuse(request, kind, 400, str(exc), body=request.body[: inbound.RAW_KEPT])
            return view(request, body, *args, **kwargs)

        return endpoint

    return decorate
