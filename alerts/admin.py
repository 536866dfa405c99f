"""Django admin for webhooks, playbooks (with their steps), alert rules, alerts and deliveries."""

from django.contrib import admin

from alerts.models import Alert, AlertRule, Playbook, PlaybookRun, PlaybookStep, Webhook, WebhookDelivery


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 1


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    inlines = [PlaybookStepInline]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "threshold", "enabled", "dry_run_at"]
    readonly_fields = ["enabled", "dry_run_at"]  # enabled from the rules page, after a dry run


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "customer", "fired_on", "closed_at"]
    list_filter = ["rule"]
    raw_id_fields = ["customer", "task"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "webhook", "attempts", "status_code", "error", "delivered_at", "created_at"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False  # written by the webhook sender; an empty one added by hand had no payload and crashed the save


@admin.register(PlaybookRun)
class PlaybookRunAdmin(admin.ModelAdmin):
    list_display = ["playbook", "customer", "status", "next_step", "resume_at", "started_at"]
    raw_id_fields = ["customer", "alert"]
