"""Top-level URLs: admin, the web app, the REST API under /api/v1/."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from web import views as web_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Pages without an icon link (admin, API docs) make browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    path("api/v1/", include("csplatform.api_urls")),
    path("s/", include("surveys.urls")),
    # Before Django's auth URLs: the password reset, rate-limited (web.views.password_reset).
    path("accounts/password_reset/", web_views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("integrations.urls")),
    path("", include("web.health_urls")),
    path("", include("web.churn_urls")),
    path("", include("web.urls")),
]
