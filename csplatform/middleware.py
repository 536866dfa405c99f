"""Answer with a clear 503 instead of a 500 while the database cannot be reached.

A view (or a DRF viewset, or `request.user` evaluated inside one) that raises
`OperationalError` or `InterfaceError` gets a small, self-contained 503 page — or, under
/api/, the JSON `{"detail": …}` of spec/api.md — with `Retry-After`. The 503 page is
rendered from templates/503.html without context processors, so nothing in it touches
the database. Other errors are left to Django's usual 500 handling.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
API_DETAIL = "The database is unavailable; try again shortly."


def database_unavailable_response(request) -> HttpResponse:
    """Return the 503 answer for `request`: JSON under /api/, the 503 page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": API_DETAIL}, status=503)
    else:
        # Template.render without a request: no context processors, so no session or user look-up.
        html = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a view's database connection errors into a 503 with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.error("database unavailable for %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)


class RefuseNulMiddleware:
    """Answer 400 to a query string or form field holding a NUL character: no database stores
    one, so a filter or a saved field with it would end in a 500 (issue 12)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = [request.GET]
        api = request.path.startswith("/api/")
        # Not the API's bodies: reading a form body here would leave DRF nothing to refuse with its 415
        # (the API takes JSON, whose NULs its parser and serializers refuse).
        if not api and request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields.append(request.POST)
        for data in fields:
            bad = [key for key in data if "\x00" in key or any("\x00" in value for value in data.getlist(key))]
            if bad:
                name = bad[0].replace("\x00", "")
                if api:  # a bad parameter is a 400 naming it (spec/api.md)
                    return JsonResponse({name: ["must not contain NUL characters"]}, status=400)
                return HttpResponse(f"{name}: must not contain NUL characters", status=400, content_type="text/plain")
        return self.get_response(request)
