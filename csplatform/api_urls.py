"""REST API v1 routes; each app's endpoints live in its api.py."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from importing import api as importing_api
from metrics import api as metrics_api
from surveys import api as surveys_api

# Redoc adds <style> elements and style attributes without a nonce and searches in a blob: worker;
# on that page only, styles may be inline (a nonce would disable 'unsafe-inline'). Scripts stay strict.
REDOC_CSP = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})

router = DefaultRouter()
router.register("customers", accounts_api.CustomerViewSet, basename="customer")
router.register("contacts", accounts_api.ContactViewSet, basename="contact")
router.register("subscriptions", accounts_api.SubscriptionViewSet, basename="subscription")
router.register("churn-reasons", accounts_api.ChurnReasonViewSet, basename="churn-reason")
router.register("tickets", accounts_api.TicketViewSet, basename="ticket")
router.register("usage-events", accounts_api.UsageEventViewSet, basename="usage-event")
router.register("survey-responses", surveys_api.SurveyResponseViewSet, basename="survey-response")
router.register("surveys", surveys_api.SurveyViewSet, basename="survey")
router.register("costs", accounts_api.CostViewSet, basename="cost")
router.register("leads", accounts_api.LeadViewSet, basename="lead")
router.register("tasks", accounts_api.TaskViewSet, basename="task")
router.register("notes", accounts_api.NoteViewSet, basename="note")
router.register("imports", importing_api.ImportJobViewSet, basename="import")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Docs under the site CSP: Swagger UI's script from ?script, inline styles with the nonce (templates/api/).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"), name="api-docs"),
    path("redoc/", REDOC_CSP(SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")), name="api-redoc"),
    path("kpis/", metrics_api.kpi_report, name="kpis"),
    path("kpis/series/", metrics_api.kpi_series, name="kpi-series"),
    path("kpis/<str:key>/rows/", metrics_api.kpi_rows_view, name="kpi-rows"),
    path("auth/token/", accounts_api.TokenView.as_view(), name="auth-token"),
    path("customers/<int:pk>/health/", metrics_api.customer_health, name="customer-health"),
    path("", include(metrics_api.router.urls)),
    path("", include(router.urls)),
]
