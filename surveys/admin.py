"""Django admin for survey responses."""

from django.contrib import admin

from surveys.models import SurveyResponse


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["responded_at", "survey_type", "score", "customer", "contact", "short_comment"]
    list_filter = ["survey_type", ("responded_at", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["comment", "customer__name", "customer__external_id", "contact__email", "contact__external_id"]
    autocomplete_fields = ["customer", "contact"]

    @admin.display(description="comment")
    def short_comment(self, obj):
        return obj.comment[:80]
