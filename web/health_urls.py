"""URLs of the health and alert pages."""

from django.urls import path

from web import health_views as views

app_name = "alerts"

urlpatterns = [
    path("health/backtest/", views.backtest, name="backtest"),
    path("health/changes/", views.health_changes, name="health-changes"),
    path("alerts/rules/", views.rules, name="rules"),
    path("alerts/rules/<int:pk>/", views.rule, name="rule"),
    path("alerts/rules/<int:pk>/enabled/", views.rule_toggle, name="rule-toggle"),
    path("customers/<int:pk>/health/", views.account_health, name="account-health"),
    path("customers/<int:pk>/health/playbooks/", views.playbook_start, name="playbook-start"),
    path("customers/<int:pk>/health/rating/", views.rating_add, name="rating-add"),
]
