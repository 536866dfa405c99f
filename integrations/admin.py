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


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "status", "event_type", "external_id", "remote_addr")
    list_filter = ("kind", "status")
    search_fields = ("external_id", "error")
    readonly_fields = [f.name for f in InboundEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ChatDelivery)
class ChatDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event_type", "channel", "service", "attempts", "status_code", "delivered_at")
    list_filter = ("service", "event_type")
    readonly_fields = [f.name for f in ChatDelivery._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ObjectVersion)
class ObjectVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "object_id", "version_at")
    list_filter = ("kind",)
    search_fields = ("object_id",)
