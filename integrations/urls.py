"""URLs of the integrations: inbound endpoints under /integrations/, the admin page."""

from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.settings_page, name="settings"),
    path("integrations/<str:kind>/settings", views.connection_save, name="save"),
    path("integrations/segment/write-key", views.write_key_new, name="write-key"),
    path("integrations/events/<int:pk>/replay", views.event_replay, name="replay"),
    path("integrations/segment/v1/<str:call>", views.segment_source, name="segment"),
    path("integrations/stripe/webhook", views.stripe_webhook, name="stripe"),
    path("integrations/zendesk/webhook", views.zendesk_webhook, name="zendesk"),
]
