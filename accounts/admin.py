"""Django admin for customers and everything that belongs to them.

The ImportJob admin (CSV upload) lives in importing/admin.py.
"""

from decimal import Decimal

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import MONEY, ChurnReason, Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from accounts.roles import ROLES
from lib.admin_history import AuditHistoryAdmin
from lib.admin_paginators import LargeTableAdmin
from lib.subqueries import aggregate_of

admin.site.site_header = "csplatform"
admin.site.site_title = "csplatform"
admin.site.index_title = "Administration"

CENTS = Decimal("0.01")


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
        active = Subscription.objects.active_at(timezone.localdate()).values("pk")
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


@admin.register(Customer)
class CustomerAdmin(TeamMemberChoicesMixin, AuditHistoryAdmin):
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
        mrr = aggregate_of(Subscription.objects.paying_at(timezone.localdate()), Sum("mrr"), output_field=money)
        total = Coalesce(mrr, Value(Decimal(0)), output_field=money)
        return super().get_queryset(request).annotate(current_mrr_total=total)

    @admin.display(description="current MRR", ordering="current_mrr_total")
    def current_mrr(self, obj):
        total = getattr(obj, "current_mrr_total", None)  # absent on the add form's unsaved instance
        return None if total is None else Decimal(total).quantize(CENTS)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "external_id", "email", "customer", "language", "opted_out_at"]
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
class SubscriptionAdmin(AuditHistoryAdmin):
    list_display = ["customer", "plan", "started_at", "ended_at", "mrr", "is_trial", "is_active", "end_reason"]
    list_filter = [ActiveTodayFilter, "is_trial", "plan", "currency", "end_reason"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "plan", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "started_at"

    @admin.display(boolean=True, description="active today")
    def is_active(self, obj):
        return obj.is_active_on(timezone.localdate())


@admin.register(UsageEvent)
class UsageEventAdmin(LargeTableAdmin):
    list_display = ["occurred_at", "event_type", "customer", "contact", "session_id"]
    # Only filters that add a WHERE: a filter on event_type would SELECT DISTINCT the whole table.
    list_filter = [("occurred_at", admin.DateFieldListFilter)]
    list_select_related = ["customer", "contact"]
    search_fields = ["=event_type", "=session_id", "=customer__external_id", "=contact__external_id"]
    raw_id_fields = ["customer", "contact"]
    ordering = ["-occurred_at"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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
class CostEntryAdmin(admin.ModelAdmin):
    list_display = ["month", "category", "amount", "currency", "original_amount"]
    list_filter = ["category", "currency"]
    search_fields = ["category"]
    date_hierarchy = "month"


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["external_id", "source", "created_at", "converted_at", "customer", "is_converted"]
    list_filter = [("converted_at", admin.EmptyFieldListFilter), ("created_at", admin.DateFieldListFilter), "source"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "source", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]

    @admin.display(boolean=True, description="converted", ordering="converted_at")
    def is_converted(self, obj):
        return obj.converted_at is not None


@admin.register(Note)
class NoteAdmin(TeamMemberChoicesMixin, admin.ModelAdmin):
    list_display = ["__str__", "customer", "author", "created_at"]
    list_filter = [("created_at", admin.DateFieldListFilter), ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "author"]
    search_fields = ["body", "customer__name", "customer__external_id"]
    autocomplete_fields = ["customer"]
    team_member_fields = ("author",)

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}


@admin.register(Task)
class TaskAdmin(TeamMemberChoicesMixin, admin.ModelAdmin):
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
