"""Top-level URLs: admin, the web app, the REST API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("csplatform.api_urls")),
    path("s/", include("surveys.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("alerts.urls")),
    path("", include("web.urls")),
]
