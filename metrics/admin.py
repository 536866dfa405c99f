"""Django admin for KPI snapshots, stale periods, the usage rollups and the health model.

Snapshots and rollups are computed by the KPI engine, so their admin is view-only
(deleting stays possible, for a forced recompute). Stale ranges can be added by hand
to have the engine recompute some days.
"""

import datetime

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join

from lib.admin_history import AuditHistoryAdmin
from lib.admin_paginators import LargeTableAdmin
from metrics import health_versions
from metrics.quality import quality_refresh
from metrics.models import (
    CsmRating,
    CustomerDayFeature,
    CustomerMonthFeature,
    HealthModel,
    HealthScore,
    KpiSnapshot,
    QualityIssue,
    SnapshotVerification,
    StaleRange,
    UsageSession,
    UserDayActivity,
    UserMonthActivity,
)


class ComputedDataAdmin(LargeTableAdmin):
    """View-only admin for rows the KPI engine writes: an edit would be overwritten by the next run."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ComputedDataAdmin):
    list_display = ["metric", "scope", "period_start", "period_end", "value", "reason", "definition_version", "computed_at"]
    list_filter = [("period_start", admin.DateFieldListFilter), ("computed_at", admin.DateFieldListFilter)]
    search_fields = ["=metric", "^scope", "=definition_version"]


@admin.register(SnapshotVerification)
class SnapshotVerificationAdmin(admin.ModelAdmin):
    """The outcome of each `verify_snapshots` run (weekly by beat): every stored figure that drifted."""

    list_display = ["started_at", "checked", "drift_count", "period_start", "period_end", "finished_at"]
    readonly_fields = ["started_at", "finished_at", "period_start", "period_end", "checked", "drift_count", "drift_table"]
    exclude = ["drifts"]
    date_hierarchy = "started_at"

    @admin.display(description="Drifts (metric, scope, period, field: stored → live)")
    def drift_table(self, obj):
        if not obj.drifts:
            return "none: every stored figure equals the live value"
        return format_html_join(
            "\n", "<div><code>{} {} [{}, {}) {}: {} → {}</code></div>",
            ((d["metric"], d["scope"], d["period_start"], d["period_end"], d["field"], d["stored"], d["live"])
             for d in obj.drifts),
        )  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QualityIssue)
class QualityIssueAdmin(admin.ModelAdmin):
    """The data-quality gate's findings, one page for every check: fix the data (the finding goes at the next
    run) or accept it (its periods stop carrying the warning)."""

    list_display = ["rule", "day", "customer", "detail", "found_at", "accepted_at", "accepted_by"]
    list_filter = ["rule", ("accepted_at", admin.EmptyFieldListFilter), ("day", admin.DateFieldListFilter)]
    list_select_related = ["customer", "accepted_by"]
    search_fields = ["key", "detail", "customer__name", "customer__external_id"]
    readonly_fields = ["rule", "key", "day", "customer", "detail", "found_at", "accepted_at", "accepted_by"]
    actions = ["accept", "check_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Accept: the data is right, stop warning")
    def accept(self, request, queryset):
        n = queryset.filter(accepted_at__isnull=True).update(accepted_at=timezone.now(), accepted_by=request.user)
        self.message_user(request, f"{n} finding(s) accepted")

    @admin.action(description="Run every check again now")
    def check_now(self, request, queryset):
        counts = quality_refresh()
        self.message_user(request, "checked: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@admin.register(StaleRange)
class StaleRangeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end", "input", "marked_at"]
    list_filter = [("start", admin.DateFieldListFilter), "input"]
    search_fields = ["start", "end"]
    ordering = ["-start"]


@admin.register(UserDayActivity)
class UserDayActivityAdmin(ComputedDataAdmin):
    list_display = ["day", "customer", "contact", "events"]
    list_filter = [("day", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["=customer__external_id", "=contact__external_id"]
    raw_id_fields = ["customer", "contact"]
    ordering = ["-day"]


@admin.register(CustomerDayFeature)
class CustomerDayFeatureAdmin(ComputedDataAdmin):
    list_display = ["day", "customer", "event_type", "events"]
    list_filter = [("day", admin.DateFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = ["=event_type", "=customer__external_id"]
    raw_id_fields = ["customer"]
    ordering = ["-day"]


@admin.register(UserMonthActivity)
class UserMonthActivityAdmin(ComputedDataAdmin):
    list_display = ["month", "customer", "contact", "days", "events", "sessions"]
    list_filter = [("month", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["=customer__external_id", "=contact__external_id"]
    raw_id_fields = ["customer", "contact"]
    ordering = ["-month"]


@admin.register(CustomerMonthFeature)
class CustomerMonthFeatureAdmin(ComputedDataAdmin):
    list_display = ["month", "customer", "event_type", "events"]
    list_filter = [("month", admin.DateFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = ["=event_type", "=customer__external_id"]
    raw_id_fields = ["customer"]
    ordering = ["-month"]


@admin.register(UsageSession)
class UsageSessionAdmin(ComputedDataAdmin):
    list_display = ["started_at", "ended_at", "duration", "customer", "contact", "events", "session_key"]
    list_filter = [("started_at", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["=session_key", "=customer__external_id", "=contact__external_id"]
    raw_id_fields = ["customer", "contact"]
    ordering = ["-started_at"]

    @admin.display(ordering="duration_us")
    def duration(self, obj):
        return datetime.timedelta(microseconds=obj.duration_us)


class HealthModelForm(forms.ModelForm):
    """Checks weights and key features as the new version will store them, so a bad one is a form error."""

    def clean_weights(self):
        return _as_form_error(health_versions.clean_weights, self.cleaned_data.get("weights"))

    def clean_key_features(self):
        return _as_form_error(health_versions.clean_key_features, self.cleaned_data.get("key_features") or [])


def _as_form_error(clean, value):
    try:
        return clean(value)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None


@admin.register(HealthModel)
class HealthModelAdmin(AuditHistoryAdmin):
    """Saving a changed health model adds a new draft version; the row shown is never changed.

    Drafts are published from the backtest page, after an admin has looked at the backtest.
    """

    form = HealthModelForm
    list_display = ["__str__", "segment", "version", "status", "created_at", "published_at"]
    list_filter = ["status", "segment"]
    fields = ["name", "segment", "weights", "target_active_days", "key_features", "version", "status", "published_at"]
    readonly_fields = ["version", "status", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "segment"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        new = health_versions.model_version_create(
            weights=obj.weights, target_active_days=obj.target_active_days, key_features=obj.key_features or [],
            segment=obj.segment, name=obj.name, based_on=obj if change else None, user=request.user,
        )  # fmt: skip
        obj.pk, obj.version = new.pk, new.version  # the change view redirects to the new version

    def has_delete_permission(self, request, obj=None):
        return False  # scores and backtests point at versions


@admin.register(HealthScore)
class HealthScoreAdmin(ComputedDataAdmin):
    list_display = ["day", "customer", "score", "band", "model", "computed_at"]
    list_filter = [("day", admin.DateFieldListFilter), "band"]
    list_select_related = ["customer", "model"]
    search_fields = ["=customer__external_id"]
    raw_id_fields = ["customer"]
    ordering = ["-day"]


@admin.register(CsmRating)
class CsmRatingAdmin(admin.ModelAdmin):
    list_display = ["customer", "rating", "author", "created_at", "expires_on"]
    list_select_related = ["customer", "author"]
    raw_id_fields = ["customer", "author"]
