"""What every HTML view of the CSM app needs, web's pages and alerts' alike: the page or its
HTMX fragment, and the customer a user may see (or a 404 that does not tell it exists).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import policy
from accounts.models import Customer
from web import selectors


def template_for(request, page: str, fragment: str) -> str:
    """The fragment for HTMX requests (but not history restores), the whole page otherwise."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{page}#{fragment}"
    return page


def customer_or_404(request, pk) -> Customer:
    """Return the customer `pk` if the request's user may see it; a 404 otherwise."""
    try:
        return selectors.customer_for_user(request.user, pk)
    except Customer.DoesNotExist:
        raise Http404(_("No such customer.")) from None


def changeable_customer_or_403(request, pk) -> Customer:
    """Return the customer `pk` if the request's user may change it: 404 if they may not see it,
    403 if they only read it (a manager), so a refused write changes nothing (accounts.policy)."""
    customer = customer_or_404(request, pk)
    if not policy.may_change_customer(request.user, customer):
        raise PermissionDenied
    return customer
