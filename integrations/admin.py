"""Admin for the integrations: chat channels, connections (secrets never shown back), the inbound log, chat deliveries."""

from django import forms
from django.contrib import admin

from integrations import config
from integrations.models import ChatChannel, ChatDelivery, Connection, InboundEvent, ObjectVersion


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "service", "user", "alerts", "digests", "detractors", "active")
    list_filter = ("service", "active")


class ConnectionForm(forms.ModelForm):
    class Meta:
        model = Connection
        fields = ("kind", "enabled", "options")


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Settings that are not secret; secrets are set on the Integrations page and shown only by their last characters."""

    form = ConnectionForm
    list_display = ("kind", "enabled", "updated_at")
    readonly_fields = ("secrets_set",)

    @admin.display(description="secrets")
    def secrets_set(self, obj):
        return ", ".join(f"{name} {config.masked(value)}" for name, value in sorted(obj.secrets.items())) or "—"


class LogAdmin(admin.ModelAdmin):
    """A log: read and delete, never written by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(InboundEvent)
class InboundEventAdmin(LogAdmin):
    list_display = ("received_at", "kind", "status", "event_type", "external_id", "remote_addr")
    list_filter = ("kind", "status")
    search_fields = ("external_id", "error")


@admin.register(ChatDelivery)
class ChatDeliveryAdmin(LogAdmin):
    list_display = ("created_at", "event_type", "channel", "service", "attempts", "status_code", "delivered_at")
    list_filter = ("service", "event_type")


@admin.register(ObjectVersion)
class ObjectVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "object_id", "version_at")
    list_filter = ("kind",)
    search_fields = ("object_id",)
