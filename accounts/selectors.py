"""Reads of accounts data for a user: what each endpoint lists, scoped to what the user may see.

A CSM sees the customers they own or are assigned to and everything tied to them;
admins and managers see all. Each selector also joins what its endpoint shows, so a
list costs a fixed number of queries.
"""

from django.db.models import QuerySet

from accounts.models import Contact, Customer, Note, Subscription, Task, Ticket, UsageEvent
from accounts.roles import sees_all_customers


def in_portfolio(queryset: QuerySet, user, field="customer") -> QuerySet:
    """Return the rows of `queryset` whose `field` is a customer `user` may see."""
    if sees_all_customers(user):
        return queryset
    return queryset.filter(**{f"{field}__in": Customer.objects.visible_to(user).values("pk")})


def customer_list_for_user(user) -> QuerySet:
    return (
        Customer.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related("assigned_users")
    )


def contact_list_for_user(user) -> QuerySet:
    return in_portfolio(Contact.objects.all(), user)


def subscription_list_for_user(user) -> QuerySet:
    return in_portfolio(Subscription.objects.select_related("customer"), user)


def ticket_list_for_user(user) -> QuerySet:
    return in_portfolio(Ticket.objects.select_related("customer"), user)


def usage_event_list_for_user(user) -> QuerySet:
    return in_portfolio(UsageEvent.objects.select_related("contact"), user)


def note_list_for_user(user) -> QuerySet:
    return in_portfolio(Note.objects.select_related("author"), user)


def task_list_for_user(user) -> QuerySet:
    return in_portfolio(Task.objects.select_related("assignee"), user)
