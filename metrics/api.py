"""KPI endpoints of the REST API: figures, series, the rows behind a figure, snapshots."""

from django.db.models import Q
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts import policy, reporting_time
from accounts.permissions import RolePermission
from lib.dates import validate_in_window
from lib.db_routing import reads_from_replica
from lib.rest import Cursor, StrictFilterBackend
from lib.schema import ErrorSerializer
from metrics import rows as kpi_rows
from metrics.health import health_for_customers, health_json
from metrics.health_versions import definition_of, models_for_customers
from metrics.models import KpiSnapshot
from metrics.periods import INTERVALS, Period, split
from metrics.presenters import kpis_json, number
from metrics.quality import scope_quality
from metrics.serializers import (
    HealthSerializer,
    KpiReportSerializer,
    KpiRowsPageSerializer,
    KpiSeriesSerializer,
    KpiSnapshotExtraField,
)
from metrics.selectors import KPI_KEYS, Scope, compute_kpis, definition_version
from metrics.tasks import fan_out


class KpiQuery(serializers.Serializer):
    start = serializers.DateField(help_text="First day of the period (inclusive).", validators=[validate_in_window])
    end = serializers.DateField(help_text="Day after the period (exclusive).", validators=[validate_in_window])
    customer = serializers.IntegerField(required=False, min_value=1)
    segment = serializers.CharField(required=False, max_length=100)
    csm = serializers.CharField(required=False, max_length=150)
    keys = serializers.CharField(required=False, help_text="Comma-separated KPI keys; default all.")

    def validate_keys(self, value):
        keys = [k.strip() for k in value.split(",") if k.strip()]
        unknown = [k for k in keys if k not in KPI_KEYS]
        if unknown:
            raise serializers.ValidationError(f"unknown KPI key(s): {', '.join(unknown)}")
        return keys

    def validate(self, data):
        if data["start"] >= data["end"]:
            raise serializers.ValidationError({"end": ["end must be after start"]})
        if (data["end"] - data["start"]).days > 366 * 10:
            raise serializers.ValidationError({"end": ["the period may span at most ten years"]})
        if sum(1 for k in ("customer", "segment", "csm") if k in data) > 1:
            raise serializers.ValidationError({"customer": ["give at most one of customer, segment and csm"]})
        return data


class SeriesQuery(KpiQuery):
    interval = serializers.ChoiceField(choices=INTERVALS, default="month")

    def validate(self, data):
        data = super().validate(data)
        if len(split(Period(data["start"], data["end"]), data["interval"])) > 400:
            raise serializers.ValidationError({"interval": ["more than 400 intervals: choose a longer interval"]})
        return data


def scope_for(user, data) -> Scope:
    """Return the scope asked for, or 404 when it lies outside what the user may see (accounts.policy)."""
    if "customer" in data:
        if not policy.may_ask_scope(user, customer_id=data["customer"]):
            raise Http404("No such customer.")
        return Scope(customer_id=data["customer"])
    if "csm" in data:
        if not policy.may_ask_scope(user, csm=data["csm"]):
            raise Http404("No such CSM.")
        return Scope(csm=data["csm"])
    if "segment" in data:
        return Scope(segment=data["segment"])
    return Scope()


def _parse(serializer_class, request, also=()):
    """Validate the query string; an unknown parameter is a 400 naming it, like a bad one."""
    unknown = set(request.query_params) - set(serializer_class().fields) - set(also)
    if unknown:
        raise serializers.ValidationError({name: ["unknown query parameter"] for name in sorted(unknown)})
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _report(scope: Scope, period: Period, keys) -> dict:
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "scope": {"customer": scope.customer_id, "segment": scope.segment, "csm": scope.csm},
        "definition_version": definition_version(),
        "kpis": kpis_json(compute_kpis(scope, period, keys)),
        # The data-quality gate: open findings dated in the period (status "ok" or "warning").
        "quality": scope_quality(scope, period),
    }


KPI_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, required=True),
    OpenApiParameter("end", OpenApiTypes.DATE, required=True),
    OpenApiParameter("customer", OpenApiTypes.INT),
    OpenApiParameter("segment", OpenApiTypes.STR),
    OpenApiParameter("csm", OpenApiTypes.STR),
    OpenApiParameter("keys", OpenApiTypes.STR, description="Comma-separated: " + ", ".join(KPI_KEYS)),
]
SCOPE_NOT_VISIBLE = OpenApiResponse(ErrorSerializer, description="The customer or CSM asked for is not one the user may see.")


@extend_schema(parameters=KPI_PARAMETERS, responses={200: KpiReportSerializer, 404: SCOPE_NOT_VISIBLE})
@api_view(["GET"])
@permission_classes([RolePermission])
@reads_from_replica
def kpi_report(request):
    """Every KPI (or those in `keys`) for one period and scope."""
    data = _parse(KpiQuery, request)
    scope = scope_for(request.user, data)
    return Response(_report(scope, Period(data["start"], data["end"]), data.get("keys")))


@extend_schema(
    parameters=[
        *KPI_PARAMETERS,
        OpenApiParameter("interval", {"$ref": "#/components/schemas/KpiIntervalEnum"}, description="Default: month."),
    ],
    responses={200: KpiSeriesSerializer, 404: SCOPE_NOT_VISIBLE},
)
@api_view(["GET"])
@permission_classes([RolePermission])
@reads_from_replica
def kpi_series(request):
    """The same report for each day, week, month or quarter of the period, for charts."""
    data = _parse(SeriesQuery, request)
    scope = scope_for(request.user, data)
    parts = split(Period(data["start"], data["end"]), data["interval"])
    return Response(
        {"interval": data["interval"], "series": [_report(scope, part, data.get("keys")) for part in parts]}
    )


class RowsPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000


@extend_schema(
    parameters=[
        OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, enum=KPI_KEYS),
        *KPI_PARAMETERS[:5],
        OpenApiParameter("limit", OpenApiTypes.INT, description=f"Rows per page, at most {RowsPagination.max_limit}."),
        OpenApiParameter("offset", OpenApiTypes.INT, description="Rows to skip."),
    ],
    responses={200: KpiRowsPageSerializer},
)
@api_view(["GET"])
@permission_classes([RolePermission])
@reads_from_replica
def kpi_rows_view(request, key):
    """The rows behind one KPI: the churned customers, the detractors, the tickets …

    Only rows of customers the user may see, for every scope; company cost and lead rows
    for admins and managers only (403 for a key made of them alone).
    """
    if key not in KPI_KEYS:
        raise Http404("Unknown KPI key.")
    data = _parse(KpiQuery, request, also=("limit", "offset"))
    scope = scope_for(request.user, data)
    rows = kpi_rows.rows_for_user(request.user, key, scope, Period(data["start"], data["end"]))
    paginator = RowsPagination()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response([{"kind": kpi_rows.row_kind(key, row), **row} for row in page])


class KpiSnapshotSerializer(serializers.ModelSerializer):
    value = serializers.SerializerMethodField()
    numerator = serializers.SerializerMethodField()
    denominator = serializers.SerializerMethodField()
    extra = KpiSnapshotExtraField(read_only=True)

    class Meta:
        model = KpiSnapshot
        fields = [
            "id", "metric", "scope", "period_start", "period_end", "value", "numerator", "denominator",
            "reason", "extra", "definition_version", "computed_at",
        ]  # fmt: skip

    def get_value(self, obj) -> float | None:
        return number(obj.value)

    def get_numerator(self, obj) -> float | None:
        return number(obj.numerator)

    def get_denominator(self, obj) -> float | None:
        return number(obj.denominator)


class KpiSnapshotFilter(filters.FilterSet):
    class Meta:
        model = KpiSnapshot
        fields = {
            "metric": ["exact"],
            "scope": ["exact"],
            "period_start": ["exact", "gte"],
            "period_end": ["exact", "lte"],
            "definition_version": ["exact"],
        }


class SnapshotCursor(Cursor):
    ordering = ("-period_start", "metric", "scope", "id")
    page_size = 100


def snapshots_visible_to(user):
    """Snapshots a user may read: all for admins and managers; aggregates and their portfolio for CSMs."""
    snapshots = KpiSnapshot.objects.all()
    if policy.sees_all_customers(user):
        return snapshots
    own = policy.visible_customers(user).values_list("pk", flat=True)
    return snapshots.filter(
        Q(scope="company")
        | Q(scope__startswith="segment:")
        | Q(scope=f"csm:{user.get_username()}")
        | Q(scope__in=[f"customer:{pk}" for pk in own])
    )


class RecomputeRequest(serializers.Serializer):
    start = serializers.DateField(validators=[validate_in_window])
    end = serializers.DateField(validators=[validate_in_window])
    interval = serializers.ChoiceField(choices=INTERVALS, default="month")

    def validate(self, data):
        if data["start"] >= data["end"]:
            raise serializers.ValidationError({"end": ["end must be after start"]})
        if len(split(Period(data["start"], data["end"]), data["interval"])) > 400:
            raise serializers.ValidationError({"interval": ["more than 400 intervals: choose a longer interval"]})
        return data


class KpiSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored KPI snapshots: company, segments and CSMs every day (yesterday, month to date); every scope, customers
    included, for each closed month and backfilled period (docs/api.md); `recompute` (admin) queues a backfill of every scope."""

    serializer_class = KpiSnapshotSerializer
    filterset_class = KpiSnapshotFilter
    filter_backends = [StrictFilterBackend]
    pagination_class = SnapshotCursor
    search_fields = []
    ordering_fields = []

    queryset = KpiSnapshot.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return snapshots_visible_to(self.request.user)

    @extend_schema(request=RecomputeRequest, responses={202: inline_serializer("RecomputeQueued", {"tasks": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], permission_classes=[RolePermission])  # a write: admins only
    def recompute(self, request):
        query = RecomputeRequest(data=request.data)
        query.is_valid(raise_exception=True)
        periods = split(Period(query.validated_data["start"], query.validated_data["end"]), query.validated_data["interval"])
        tasks = sum(fan_out(p.start, p.end) for p in periods)
        return Response({"tasks": tasks}, status=202)


router = SimpleRouter()
router.register("kpi-snapshots", KpiSnapshotViewSet, basename="kpi-snapshot")


# --- Health score of one customer --------------------------------------------------------


class HealthQuery(serializers.Serializer):
    at = serializers.DateField(
        required=False, help_text="Score at the start of this day; default today.", validators=[validate_in_window]
    )


@extend_schema(
    parameters=[OpenApiParameter("at", OpenApiTypes.DATE, description="Score at the start of this day; default today.")],
    responses=HealthSerializer,
)
@api_view(["GET"])
@permission_classes([RolePermission])
def customer_health(request, pk):
    """Return a customer's health score with each component's score, weight and inputs."""
    query = _parse(HealthQuery, request)
    customer = policy.visible_customers(request.user).filter(pk=pk).values_list("pk", "segment").first()
    if customer is None:
        raise Http404("No such customer.")
    at = query.get("at") or reporting_time.today()
    [(model, _ids)] = models_for_customers(dict([customer]))
    health = health_for_customers([pk], at, definition_of(model))[pk]
    return Response(health_json(health, model.label))
