"""Accounts endpoints of the REST API: customers and their records, costs, leads, notes, tasks, tokens.

Each viewset names the selector that scopes its rows to the user (accounts.selectors);
roles per action are declared here and enforced by accounts.permissions.
Writes are checked by the import's rules (accounts.serializers, importing.records) and
announced as an import's (`importing.signals.import_finished`), so metrics refreshes its
rollups and snapshots; a resolved ticket sends `accounts.signals.ticket_resolved`.
Being an interface, this module and accounts.serializers may use importing, the layer
above accounts (docs/architecture.md).
"""

import copy

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, signals
from accounts.filters import (
    ContactFilter,
    CostFilter,
    CustomerFilter,
    LeadFilter,
    NoteFilter,
    SubscriptionFilter,
    TaskFilter,
    TicketFilter,
    UsageEventFilter,
)
from accounts.models import ChurnReason, CostEntry, Lead
from accounts.permissions import RolePermission
from accounts.roles import ADMIN, CSM, MANAGER
from accounts.serializers import (
    AuthTokenSerializer,
    ChurnReasonSerializer,
    ContactSerializer,
    CostSerializer,
    CustomerSerializer,
    LeadSerializer,
    NoteSerializer,
    SubscriptionSerializer,
    TaskSerializer,
    TicketSerializer,
    UsageEventBatchResultSerializer,
    UsageEventInSerializer,
    UsageEventSerializer,
    cell_text,
    id_of,
)
from importing.parsing import CellError
from importing.records import events_record, record_written
from lib.rest import (
    AtomicWritesMixin,
    PagePagination,
    SelectorMixin,
    StrictFilterBackend,
    StrictOrderingFilter,
    StrictSearchFilter,
    TimeCursorPagination,
)

MAX_EVENTS_PER_REQUEST = 5_000


_EVENT_FIELDS = {"customer_external_id": "customer"}


class PortfolioViewSet(AtomicWritesMixin, SelectorMixin, viewsets.ModelViewSet):
    """CRUD on records tied to customers: every role reads (a CSM their portfolio), admins and CSMs write.

    Subclasses set `selector` or, for data that is not per customer, `queryset`; they may
    narrow roles with `action_roles`.
    """

    permission_classes = [RolePermission]
    pagination_class = PagePagination
    filter_backends = [StrictFilterBackend, StrictSearchFilter, StrictOrderingFilter]
    write_roles = (ADMIN, CSM)
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class ImportKindViewSet(PortfolioViewSet):
    """A viewset over records an import kind also writes: every write is announced as an import's."""

    import_kind: str

    def perform_create(self, serializer):
        record_written(self.import_kind, serializer.save())

    def perform_update(self, serializer):
        before = copy.copy(serializer.instance)  # the old dates are stale too
        record_written(self.import_kind, before, serializer.save())

    def perform_destroy(self, instance):
        deleted = copy.copy(instance)  # as it was: delete() clears its id
        instance.delete()
        record_written(self.import_kind, deleted)


class CustomerViewSet(ImportKindViewSet):
    """Customers; admins create and delete them, a CSM edits those in their portfolio."""

    import_kind = "customers"
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ("name", "external_id")
    ordering_fields = ("name", "external_id", "segment", "country", "created_on", "added_at", "id")
    action_roles = {"create": (ADMIN,), "destroy": (ADMIN,)}
    selector = staticmethod(selectors.customer_list_for_user)

    def perform_destroy(self, instance):
        deleted = copy.copy(instance)  # its rows go with it: every figure it was part of changes
        instance.delete()
        record_written(self.import_kind, deleted)


class ContactViewSet(PortfolioViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ("external_id", "email", "name")
    ordering_fields = ("external_id", "email", "name", "id")
    selector = staticmethod(selectors.contact_list_for_user)


class SubscriptionViewSet(ImportKindViewSet):
    import_kind = "subscriptions"
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    search_fields = ("plan", "external_id")
    ordering_fields = ("started_at", "ended_at", "mrr", "plan", "id")
    selector = staticmethod(selectors.subscription_list_for_user)


class TicketViewSet(ImportKindViewSet):
    """Tickets; resolving one sends `ticket_resolved` (surveys then invites its contact to the CSAT survey)."""

    import_kind = "tickets"
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    search_fields = ("subject", "external_id")
    ordering_fields = ("opened_at", "resolved_at", "first_response_at", "priority", "id")
    selector = staticmethod(selectors.ticket_list_for_user)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        signals.announce_if_resolved(None, serializer.instance)

    def perform_update(self, serializer):
        was_resolved = serializer.instance.resolved_at
        super().perform_update(serializer)
        signals.announce_if_resolved(was_resolved, serializer.instance)


class ChurnReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The editable list of churn and contraction reasons (edited in admin); every role reads it."""

    permission_classes = [RolePermission]
    serializer_class = ChurnReasonSerializer
    queryset = ChurnReason.objects.all()
    pagination_class = None


class CostViewSet(ImportKindViewSet):
    """Company costs: admins and managers read them, admins write them; CSMs get 403."""

    import_kind = "costs"
    serializer_class = CostSerializer
    filterset_class = CostFilter
    ordering_fields = ("month", "category", "amount", "id")
    read_roles = (ADMIN, MANAGER)
    write_roles = (ADMIN,)
    queryset = CostEntry.objects.all()


class LeadViewSet(ImportKindViewSet):
    """Leads (acquisition data): admins and managers read them, admins write them; CSMs get 403."""

    import_kind = "leads"
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    search_fields = ("external_id", "source")
    ordering_fields = ("created_at", "converted_at", "source", "id")
    read_roles = (ADMIN, MANAGER)
    write_roles = (ADMIN,)
    queryset = Lead.objects.all()


class NoteViewSet(PortfolioViewSet):
    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    search_fields = ("body",)
    ordering_fields = ("created_at", "id")
    selector = staticmethod(selectors.note_list_for_user)

    def perform_create(self, serializer):
        serializer.save(author=self.request.user)


class TaskViewSet(PortfolioViewSet):
    """CSM to-dos."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    search_fields = ("title", "details")
    ordering_fields = ("due_on", "created_at", "completed_at", "id")
    selector = staticmethod(selectors.task_list_for_user)

    def perform_create(self, serializer):
        if "assignee" in serializer.validated_data:
            serializer.save()
        else:
            serializer.save(assignee=self.request.user)


class UsageEventViewSet(SelectorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Usage events: listed in time order by cursor, created in bulk by the import's rules."""

    serializer_class = UsageEventSerializer
    permission_classes = [RolePermission]
    write_roles = (ADMIN, CSM)
    pagination_class = TimeCursorPagination
    filter_backends = [StrictFilterBackend]
    filterset_class = UsageEventFilter
    selector = staticmethod(selectors.usage_event_list_for_user)

    @extend_schema(
        request=UsageEventInSerializer(many=True),
        responses={
            201: UsageEventBatchResultSerializer,
            400: OpenApiResponse(
                {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ValidationError"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                    ]
                },
                description="The request as a whole (`detail`), or one object per event in the order sent "
                "(empty for the events without problems).",
            ),
        },
        description=f"Store up to {MAX_EVENTS_PER_REQUEST:,} events, all or none. An event already stored "
        "(the same `event_id`, or without one the same user, instant and type) is counted in `duplicates`. Errors are a list with one object per "
        "event, as DRF gives them for lists.",
    )
    def create(self, request):
        events = request.data
        if not isinstance(events, list):
            raise serializers.ValidationError({"detail": "send a JSON list of events"})
        if not events:
            raise serializers.ValidationError({"detail": "the list of events is empty"})
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise serializers.ValidationError(
                {"detail": f"{len(events):,} events in one request; send at most {MAX_EVENTS_PER_REQUEST:,}"}
            )
        rows, errors = self._rows(events)
        if not any(errors):
            result = events_record(rows)
            for error in result.errors:
                errors[error.line].setdefault(_EVENT_FIELDS.get(error.column, error.column), []).append(error.message)
        if any(errors):
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        body = {"received": len(events), "created": result.created, "duplicates": result.updated}
        return Response(body, status=status.HTTP_201_CREATED)

    def _rows(self, events):
        """Return the events as import cells (customer ids become external ids) and per-event errors."""
        errors = [{} for _ in events]
        ids = {}
        for i, event in enumerate(events):
            if not isinstance(event, dict):
                errors[i]["non_field_errors"] = ["expected a JSON object"]
                continue
            try:
                ids[i] = id_of(event.get("customer"))
            except CellError as exc:
                errors[i]["customer"] = [exc.message]
        visible = selectors.customer_list_for_user(self.request.user).filter(pk__in=set(ids.values()))
        external_ids = dict(visible.values_list("pk", "external_id"))
        rows = []
        for i, event in enumerate(events):
            if errors[i]:
                continue
            if ids[i] not in external_ids:
                errors[i]["customer"] = [f"no customer with id {ids[i]}"]
                continue
            row = {"customer_external_id": external_ids[ids[i]]}
            for name in ("user_external_id", "event_type", "occurred_at", "session_id", "event_id"):
                try:
                    row[name] = cell_text(event.get(name))
                except CellError as exc:
                    errors[i][name] = [exc.message]
            rows.append(row)
        return rows, errors


TOKEN = inline_serializer("Token", {"token": serializers.CharField()})


class TokenView(APIView):
    """The caller's API token: POST username and password to get it (created on first use), DELETE to revoke it.

    To rotate a token, DELETE it and POST again. Attempts are throttled (scope `auth`).
    """

    throttle_scope = "auth"

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [ScopedRateThrottle(), *super().get_throttles()]

    @extend_schema(request=AuthTokenSerializer, responses={200: TOKEN}, auth=[])
    def post(self, request):
        # The Django request, not DRF's wrapper: django-axes marks a locked-out login on the request
        # its middleware sees, and answers 429 (settings AXES_*, web.lockout).
        credentials = AuthTokenSerializer(data=request.data, context={"request": request._request})
        credentials.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=credentials.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
