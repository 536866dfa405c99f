"""REST API v1 routes; each app's endpoints live in its api.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from metrics import api as metrics_api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("kpis/", metrics_api.kpi_report, name="kpis"),
    path("kpis/series/", metrics_api.kpi_series, name="kpi-series"),
    path("kpis/<str:key>/rows/", metrics_api.kpi_rows_view, name="kpi-rows"),
    path("", include(metrics_api.router.urls)),
]
