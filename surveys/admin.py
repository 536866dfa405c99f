"""Django admin for surveys, invitations, responses (answers read-only), skips and opt-outs."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.admin import AnnouncesChangesAdmin
from lib.admin_widgets import ParsedAutocompleteAdmin
from surveys import selectors
from surveys.models import OptOut, Survey, SurveyInvitation, SurveyResponse, SurveySkip
from surveys.tasks import survey_send


@admin.register(Survey)
class SurveyAdmin(ParsedAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["name", "survey_type", "status", "target", "target_segment", "created_at"]
    list_filter = ["survey_type", "status", "target"]
    search_fields = ["name", "question_en", "question_de"]
    autocomplete_fields = ["target_contacts"]
    actions = ["send_invitations"]
    fieldsets = [
        (None, {"fields": ["name", "survey_type", "status", "valid_days"]}),
        ("Whom", {"fields": ["target", "target_segment", "target_contacts"]}),
        ("Question", {"fields": ["question_en", "question_de"]}),
        (
            "Follow-up question",
            {"fields": ["follow_up_en", "follow_up_de", "follow_up_low_en", "follow_up_low_de", "follow_up_high_en", "follow_up_high_de"]},
        ),
    ]

    @admin.action(description="Send invitations (fatigue rules apply)")
    def send_invitations(self, request, queryset):
        for survey in queryset.filter(status=Survey.Status.ACTIVE).exclude(target=Survey.Target.TRANSACTIONAL):
            survey_send.delay(survey.pk)
            self.message_user(request, f"Sending “{survey}” in the background.", messages.SUCCESS)


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "contact", "customer", "created_at", "sent_at", "reminder_sent_at", "opened_at", "answered"]
    list_filter = ["survey", ("sent_at", admin.EmptyFieldListFilter), ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["survey", "contact", "customer", "response"]
    search_fields = ["contact__email", "contact__external_id", "customer__name"]
    exclude = ["token"]  # the token is the link: nobody needs to read it here
    readonly_fields = ["survey", "contact", "customer", "ticket", "created_at", "expires_at", "sent_at", "reminder_sent_at", "opened_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True)
    def answered(self, obj):
        return hasattr(obj, "response")


class AnalysisFilter(admin.SimpleListFilter):
    """Answers waiting for the comment analysis, with the backlog's size and age: the lag of the
    beat task `surveys.responses_analyze_pending` (every minute, analysis queue)."""

    title = "comment analysis"
    parameter_name = "analysis"

    def lookups(self, request, model_admin):
        waiting, oldest = selectors.analysis_backlog()
        since = f", oldest {timesince(oldest, timezone.now())} old" if oldest else ""
        return [("waiting", f"waiting ({waiting}{since})"), ("done", "done")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(analyzed_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(analyzed_at__isnull=False)
        return queryset


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ParsedAutocompleteAdmin, AnnouncesChangesAdmin):
    list_display = ["responded_at", "survey_type", "score", "customer", "contact", "short_comment", "language", "sentiment", "themes"]
    list_filter = ["survey_type", ("responded_at", admin.DateFieldListFilter), "language", "themes_corrected", AnalysisFilter]
    list_select_related = ["customer", "contact"]
    search_fields = ["comment", "customer__name", "customer__external_id", "contact__email", "contact__external_id"]
    autocomplete_fields = ["customer", "contact"]

    def get_readonly_fields(self, request, obj=None):
        # What a contact answered through a link is theirs: nobody edits it afterwards.
        answer = ["invitation", "survey_type", "score", "comment", "responded_at", "changed_at", "customer", "contact"]
        analysis = ["language", "sentiment", "keywords", "analyzed_at", "follow_up_task", "themes_corrected_by"]
        if obj is not None and obj.invitation_id:
            return answer + analysis
        return ["invitation", *analysis]

    @admin.display(description="comment")
    def short_comment(self, obj):
        return obj.comment[:80]


@admin.register(SurveySkip)
class SurveySkipAdmin(admin.ModelAdmin):
    list_display = ["skipped_at", "survey", "contact", "reason", "ticket"]
    list_filter = ["reason", "survey"]
    list_select_related = ["survey", "contact", "ticket"]
    search_fields = ["contact__email", "contact__external_id"]
    readonly_fields = ["survey", "contact", "ticket", "reason", "skipped_at"]

    def has_add_permission(self, request):
        return False


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "customer", "opted_out_at"]
    list_select_related = ["customer"]
    search_fields = ["email", "external_id", "name", "customer__name"]
    fields = ["customer", "external_id", "name", "email", "opted_out_at"]
    readonly_fields = ["customer", "external_id", "name", "email"]
    actions = ["opt_back_in"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(opted_out_at__isnull=False)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Opt back in (only at the contact's own request)")
    def opt_back_in(self, request, queryset):
        count = queryset.update(opted_out_at=None)
        self.message_user(request, f"{count} contacts may be surveyed again.", messages.SUCCESS)
