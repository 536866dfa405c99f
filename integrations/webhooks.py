"""What every inbound endpoint shares: refusing with a clear JSON error, and a rate limit on bad credentials.

Inbound endpoints are exempt from CSRF because a session does not authorise them: each
checks its own credential (Segment's write key, Stripe's and Zendesk's signatures).
Failed checks are counted per client address; past `CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT`
the address gets 429 before its credential is looked at.
"""

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage, is_ratelimited

from integrations import inbound


def _rate(group, request):
    return settings.CSPLATFORM_INTEGRATIONS_AUTH_RATELIMIT


def locked_out(request, kind) -> bool:
    """Whether the address has used up its failed attempts (the limit's count reached)."""
    usage = get_usage(request, group=f"integrations.{kind}", key="ip", rate=_rate, increment=False)
    return usage is not None and usage["count"] >= usage["limit"]


def refuse(request, kind, status, message, *, body=b"", payload=None) -> JsonResponse:
    """Answer `status` with `message`, and log the refused message (bad credentials also count towards the limit)."""
    if status in (401, 403):
        is_ratelimited(request, group=f"integrations.{kind}", key="ip", rate=_rate, increment=True)
    inbound.log_refused(kind, message, payload=payload, raw=body, request=request)
    return JsonResponse({"success": False, "message": message}, status=status)


def too_many(request, kind) -> JsonResponse:
    return JsonResponse(
        {"success": False, "message": "too many failed attempts from this address; try again later"}, status=429
    )
