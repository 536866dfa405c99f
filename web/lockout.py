"""The answer to a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE).

The REST API gets its error contract (`{"detail": …}` JSON); browsers get a page that
says what happened and when to try again.
"""

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

STATUS = 429


def _minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(request, original_response=None, credentials=None):
    """Return the 429 response for a username and IP address that failed too often."""
    minutes = _minutes()
    message = ngettext(
        "Too many failed login attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed login attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=STATUS)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=STATUS)
    response["Retry-After"] = str(minutes * 60)
    return response
