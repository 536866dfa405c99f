"""Who may do what: the users who may own a portfolio, and a customer a user may see (accounts.policy)."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts import policy
from accounts.models import Customer
from accounts.roles import CSM, MANAGER


def csm_users():
    """Users who may own a portfolio: members of the CSM or manager group, and owners."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=(CSM, MANAGER)) | Q(owned_customers__isnull=False), is_active=True)
        .distinct()
        .order_by("username")
    )


def customer_for_user(user, customer_id) -> Customer:
    """Return the customer if `user` may see it (accounts.policy); raise Customer.DoesNotExist otherwise."""
    return policy.visible_customers(user).select_related("owner").get(pk=customer_id)
