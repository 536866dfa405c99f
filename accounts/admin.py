"""Django admin for customers and everything that belongs to them.

The ImportJob admin (CSV upload) lives in importing/admin.py.
"""

import copy
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import reporting_time
from accounts.models import MONEY, ChurnReason, Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from accounts.roles import ROLES
from accounts.signals import announce_change
from lib.admin_history import AuditHistoryAdmin
from lib.admin_widgets import ParsedAutocompleteAdmin
from lib.admin_paginators import LargeTableAdmin
from lib.subqueries import aggregate_of
from lib.text import ONE_LINE_MESSAGE, has_line_break

admin.site.site_header = "csplatform"
admin.site.site_title = "csplatform"
admin.site.index_title = "Administration"

CENTS = Decimal("0.01")


class AnnouncesChangesAdmin(admin.ModelAdmin):
    """Admin of rows KPIs read: every save and delete (inline rows too) is announced as
    `accounts.signals.data_changed`, with the row as it was and as it is, so metrics marks
    the snapshots it touches stale as after an import."""

    def save_model(self, request, obj, form, change):
        before = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        super().save_model(request, obj, form, change)
        announce_change(before, obj)

    def delete_model(self, request, obj):
        gone = copy.copy(obj)
        related = list(obj.subscriptions.all()) if isinstance(obj, Customer) else []
        super().delete_model(request, obj)
        announce_change(gone, *related)

    def delete_queryset(self, request, queryset):
        gone = list(queryset)
        super().delete_queryset(request, queryset)
        announce_change(*gone)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        before = {o.pk: o for o in model.objects.filter(pk__in=[f.instance.pk for f in formset.forms if f.instance.pk])}
        super().save_formset(request, form, formset, change)
        touched = [before.get(o.pk) for o, _ in formset.changed_objects] + list(formset.deleted_objects)
        announce_change(*touched, *formset.new_objects, *(o for o, _ in formset.changed_objects))


def team_members():
    """Return the active users who hold a role: the people an account, note or task can belong to."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=ROLES))
        .distinct()
        .order_by("username")
    )


class TeamMemberChoicesMixin:
    """Offer only team members in the user fields named in `team_member_fields`."""

    team_member_fields = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.team_member_fields:
            kwargs["queryset"] = team_members()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.team_member_fields:
            kwargs["queryset"] = team_members()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ActiveTodayFilter(admin.SimpleListFilter):
    title = "active today"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        active = Subscription.objects.active_at(reporting_time.today()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=active)
        if self.value() == "no":
            return queryset.exclude(pk__in=active)
        return queryset


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["external_id", "name", "email", "role", "language", "opted_out_at"]
    extra = 0
    show_change_link = True


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fields = ["plan", "external_id", "started_at", "ended_at", "mrr", "currency", "original_mrr", "is_trial"]
    ordering = ["-started_at", "plan"]
    extra = 0
    show_change_link = True


class CustomerForm(forms.ModelForm):
    """The import's one-line rule for names and segments (they go into email subjects and exports)."""

    def clean(self):
        data = super().clean()
        for name in ("name", "segment"):
            if has_line_break(data.get(name) or ""):
                self.add_error(name, ONE_LINE_MESSAGE)
        return data


@admin.register(Customer)
class CustomerAdmin(ParsedAutocompleteAdmin, AnnouncesChangesAdmin, TeamMemberChoicesMixin, AuditHistoryAdmin):
    form = CustomerForm
    list_display = ["name", "external_id", "segment", "country", "owner", "current_mrr"]
    list_filter = ["segment", "country", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner"]
    search_fields = ["name", "external_id", "owner__username"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["assigned_users"]
    readonly_fields = ["current_mrr", "added_at"]
    fields = [
        "name",
        "external_id",
        "segment",
        "country",
        "owner",
        "assigned_users",
        "parent",
        "created_on",
        "current_mrr",
        "added_at",
    ]
    inlines = [ContactInline, SubscriptionInline]
    team_member_fields = ("owner", "assigned_users")

    def get_queryset(self, request):
        """Annotate today's MRR (active paying subscriptions) in the same query as the customers."""
        money = DecimalField(**MONEY)
        mrr = aggregate_of(Subscription.objects.paying_at(reporting_time.today()), Sum("mrr"), output_field=money)
        total = Coalesce(mrr, Value(Decimal(0)), output_field=money)
        return super().get_queryset(request).annotate(current_mrr_total=total)

    @admin.display(description="current MRR", ordering="current_mrr_total")
    def current_mrr(self, obj):
        total = getattr(obj, "current_mrr_total", None)  # absent on the add form's unsaved instance
        return None if total is None else Decimal(total).quantize(CENTS)


@admin.register(Contact)
class ContactAdmin(ParsedAutocompleteAdmin, admin.ModelAdmin):
    list_display = ["__str__", "external_id", "email", "customer", "language", "opted_out_at", "first_seen_at"]
    readonly_fields = ["first_seen_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.first_seen_at = timezone.now()  # known from now on: past health scores stay as they were
        super().save_model(request, obj, form, change)
    list_filter = ["language", ("opted_out_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = ["external_id", "email", "name", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]


@admin.register(ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "label_de", "position", "active"]
    list_editable = ["position", "active"]
    prepopulated_fields = {"code": ["label"]}


@admin.register(Subscription)
class SubscriptionAdmin(ParsedAutocompleteAdmin, AnnouncesChangesAdmin, AuditHistoryAdmin):
    list_display = ["customer", "plan", "started_at", "ended_at", "mrr", "is_trial", "is_active", "end_reason"]
    list_filter = [ActiveTodayFilter, "is_trial", "plan", "currency", "end_reason"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "plan", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "started_at"

    @admin.display(boolean=True, description="active today")
    def is_active(self, obj):
        return obj.is_active_on(reporting_time.today())


@admin.register(UsageEvent)
class UsageEventAdmin(AnnouncesChangesAdmin, LargeTableAdmin):
    list_display = ["occurred_at", "event_type", "customer", "contact", "session_id"]
    # Only filters that add a WHERE: a filter on event_type would SELECT DISTINCT the whole table.
    list_filter = [("occurred_at", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["=event_type", "=session_id", "=customer__external_id", "=contact__external_id"]
    raw_id_fields = ["customer", "contact"]
    ordering = ["-occurred_at"]


@admin.register(Ticket)
class TicketAdmin(ParsedAutocompleteAdmin, AnnouncesChangesAdmin, admin.ModelAdmin):
    list_display = [
        "external_id",
        "subject",
        "customer",
        "opened_at",
        "resolved_at",
        "contacts_count",
        "first_contact_resolution",
    ]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), ("opened_at", admin.DateFieldListFilter), "channel", "priority"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "subject", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer", "contact"]

    @admin.display(boolean=True, description="first-contact resolution")
    def first_contact_resolution(self, obj):
        """Return True/False for a resolved ticket with a known contacts count, else None (unknown)."""
        if obj.resolved_at is None or obj.contacts_count is None:
            return None
        return obj.contacts_count == 1


@admin.register(CostEntry)
class CostEntryAdmin(AnnouncesChangesAdmin, admin.ModelAdmin):
    list_display = ["month", "category", "amount", "currency", "original_amount"]
    list_filter = ["category", "currency"]
    search_fields = ["category"]
    date_hierarchy = "month"


@admin.register(Lead)
class LeadAdmin(ParsedAutocompleteAdmin, AnnouncesChangesAdmin, admin.ModelAdmin):
    list_display = ["external_id", "source", "created_at", "converted_at", "customer", "is_converted"]
    list_filter = [("converted_at", admin.EmptyFieldListFilter), ("created_at", admin.DateFieldListFilter), "source"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "source", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]

    @admin.display(boolean=True, description="converted", ordering="converted_at")
    def is_converted(self, obj):
        return obj.converted_at is not None


@admin.register(Note)
class NoteAdmin(ParsedAutocompleteAdmin, TeamMemberChoicesMixin, admin.ModelAdmin):
    list_display = ["__str__", "customer", "author", "created_at"]
    list_filter = [("created_at", admin.DateFieldListFilter), ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "author"]
    search_fields = ["body", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]
    team_member_fields = ("author",)

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}


@admin.register(Task)
class TaskAdmin(ParsedAutocompleteAdmin, TeamMemberChoicesMixin, admin.ModelAdmin):
    list_display = ["title", "customer", "assignee", "due_on", "source", "completed_at", "overdue"]
    list_filter = [
        ("completed_at", admin.EmptyFieldListFilter),
        "source",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        ("due_on", admin.DateFieldListFilter),
    ]
    list_select_related = ["customer", "assignee"]
    search_fields = ["title", "details", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]
    team_member_fields = ("assignee",)

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.is_overdue()
