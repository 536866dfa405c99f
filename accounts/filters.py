"""Query filters of the accounts endpoints (django-filter FilterSets).

Ranges take `<name>_after` and `<name>_before` (both inclusive); customer ids are plain
numbers, so filtering by a customer outside one's portfolio just finds nothing.
"""

import django_filters as df

from accounts.models import Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from lib.filters import BoolFilter, DateTimeRangeFilter, FilterSet, IdFilter


class CustomerRefFilterSet(FilterSet):
    customer = IdFilter(field_name="customer_id")
    segment = df.CharFilter(field_name="customer__segment")


class CustomerFilter(FilterSet):
    csm = df.CharFilter(field_name="owner__username", help_text="Username of the owning CSM.")
    created_on = df.DateFromToRangeFilter()

    class Meta:
        model = Customer
        fields = ("external_id", "segment", "country", "csm", "created_on")


class ContactFilter(CustomerRefFilterSet):
    class Meta:
        model = Contact
        fields = ("customer", "segment", "external_id", "email", "language")


class SubscriptionFilter(CustomerRefFilterSet):
    started_at = df.DateFromToRangeFilter()
    ended_at = df.DateFromToRangeFilter()
    active_on = df.DateFilter(method="filter_active_on", help_text="Rows active on this day.")

    class Meta:
        model = Subscription
        fields = ("customer", "segment", "external_id", "plan", "is_trial", "currency", "started_at", "ended_at")

    def filter_active_on(self, queryset, name, value):
        return queryset.active_at(value)


class TicketFilter(CustomerRefFilterSet):
    opened_at = DateTimeRangeFilter()
    resolved_at = DateTimeRangeFilter()
    is_open = BoolFilter(field_name="resolved_at", lookup_expr="isnull", help_text="Not resolved yet.")

    class Meta:
        model = Ticket
        fields = ("customer", "segment", "external_id", "channel", "priority", "opened_at", "resolved_at", "is_open")


class UsageEventFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    occurred_at = DateTimeRangeFilter()

    class Meta:
        model = UsageEvent
        fields = ("customer", "event_type", "session_id", "occurred_at")


class CostFilter(FilterSet):
    month = df.DateFromToRangeFilter(help_text="First days of months.")

    class Meta:
        model = CostEntry
        fields = ("category", "currency", "month")


class LeadFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    created_at = DateTimeRangeFilter()
    converted_at = DateTimeRangeFilter()
    is_converted = BoolFilter(field_name="converted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Lead
        fields = ("customer", "source", "created_at", "converted_at", "is_converted")


class NoteFilter(CustomerRefFilterSet):
    author = df.CharFilter(field_name="author__username")
    created_at = DateTimeRangeFilter()

    class Meta:
        model = Note
        fields = ("customer", "segment", "author", "created_at")


class TaskFilter(CustomerRefFilterSet):
    assignee = df.CharFilter(field_name="assignee__username")
    due_on = df.DateFromToRangeFilter()
    is_open = BoolFilter(field_name="completed_at", lookup_expr="isnull", help_text="Not completed yet.")

    class Meta:
        model = Task
        fields = ("customer", "segment", "assignee", "source", "due_on", "is_open")
