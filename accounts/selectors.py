"""Reads of accounts data for a user: what each endpoint lists, scoped to what the user may see.

Who sees what is accounts.policy's: a CSM sees the customers they own or are assigned
to and everything tied to them; admins and managers see all. Each selector also joins what its endpoint shows, so a
list costs a fixed number of queries.
"""

from django.db.models import QuerySet

from accounts import policy
from accounts.models import Contact, Note, Subscription, Task, Ticket, UsageEvent


def in_portfolio(queryset: QuerySet, user, field="customer") -> QuerySet:
    """Return the rows of `queryset` whose `field` is a customer `user` may see (accounts.policy)."""
    return policy.restrict(queryset, user, field)


def customer_list_for_user(user) -> QuerySet:
    return (
        policy.visible_customers(user)
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
