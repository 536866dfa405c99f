"""REST plumbing shared by every app's api.py: errors, pagination, strict query parameters.

- `exception_handler` keeps the error contract of spec/api.md: JSON `{"detail": …}` or
  `{"field": [...]}`, and a 400 instead of a 500 for data the database refuses.
- `StrictFilterBackend`, `StrictOrderingFilter`, `StrictSearchFilter` and the paginations
  answer a bad or unknown query parameter with a 400 that names it.
- `SelectorMixin` takes a view's rows from a selector; `accounts.api.PortfolioViewSet`
  wires all of it to the roles.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers, status
from rest_framework.exceptions import APIException, NotFound, UnsupportedMediaType, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

# Query parameters every list understands besides its filters.
COMMON_PARAMS = {"format", "page", "page_size", "cursor", "search", "ordering"}


class Conflict(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "conflict"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError and the database's refusals as 400 JSON."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, IntegrityError):
        exc = Conflict(f"the change conflicts with stored data ({exc})")
    elif isinstance(exc, DataError):
        exc = Conflict(f"a value does not fit the database ({exc})")
    elif isinstance(exc, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
        exc = PayloadTooLarge(f"the request body is larger than {limit}; send the data in smaller requests")
    elif isinstance(exc, OverflowError):
        # e.g. a filter's 0001-01-01T00:00+01:00, which has no UTC equivalent to query with
        exc = Conflict("a value is out of the range that can be stored or compared")
    elif isinstance(exc, UnsupportedMediaType) and context.get("request") is not None:
        accepted = " or ".join(parser.media_type for parser in context["request"].parsers)
        media = context["request"].content_type.split(";")[0]
        exc = UnsupportedMediaType(media, f'the body is "{media}"; send {accepted}')
    return drf_exception_handler(exc, context)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend that also refuses query parameters no filter or list option reads."""

    def filter_queryset(self, request, queryset, view):
        allowed = COMMON_PARAMS | set(getattr(view, "extra_query_params", ()))
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            for name, field in filterset.form.fields.items():
                suffixes = getattr(field.widget, "suffixes", None)
                allowed.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes or [""])
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["unknown query parameter"] for name in unknown})
        return super().filter_queryset(request, queryset, view)


class StrictOrderingFilter(filters.OrderingFilter):
    """Ordering that names an unknown field instead of ignoring it, and breaks ties by id."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        invalid = [term for term in fields if term not in valid]
        if invalid:
            names = [item[0] for item in self.get_valid_fields(queryset, view, {"request": request})]
            raise ValidationError(
                {self.ordering_param: [f"cannot order by {', '.join(invalid)}; use {', '.join(names)}"]}
            )
        return valid

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if ordering:
            return queryset.order_by(*ordering, "pk")
        return queryset


class StrictSearchFilter(filters.SearchFilter):
    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if "\x00" in value:
            raise ValidationError({self.search_param: ["must not contain NUL characters"]})
        return super().get_search_terms(request)


def page_schema(results: dict, *, counted: bool) -> dict:
    """The schema of a page of results: every list answers with this envelope (`count` when counted)."""
    link = {"type": ["string", "null"], "format": "uri"}
    properties = {
        "next": {**link, "description": "The next page; null on the last."},
        "previous": {**link, "description": "The previous page; null on the first."},
        "results": results,
    }
    if counted:
        properties = {"count": {"type": "integer", "description": "Results in all pages."}, **properties}
    return {"type": "object", "required": list(properties), "properties": properties}


class PagePagination(PageNumberPagination):
    """Pages of 50 (`page_size` up to 500); a page that does not exist is a 400 naming `page`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            raise ValidationError({self.page_query_param: [str(exc.detail)]}) from None

    def get_paginated_response_schema(self, schema):
        return page_schema(schema, counted=True)


class Cursor(CursorPagination):
    """Cursor pages (no count: counting a huge table is slow); a cursor we did not hand out is a 400."""

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["is not a cursor this API handed out"]}) from None

    def get_paginated_response_schema(self, schema):
        return page_schema(schema, counted=False)


class AtomicWritesMixin:
    """Each write of a viewset in one transaction: a write refused after something was saved (a
    400 or 403 raised on the way) leaves nothing behind."""

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)


class TimeCursorPagination(Cursor):
    """Cursor pages in time order, for tables of millions of rows (a page of 100, up to 1,000)."""

    ordering = ("occurred_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SelectorMixin:
    """Take a view's rows from `selector(user)` (accounts.selectors), or from `queryset` when it has none."""

    selector = None

    def get_queryset(self):
        if self.selector is None:
            return super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return self.get_serializer_class().Meta.model.objects.none()
        return self.selector(self.request.user)

