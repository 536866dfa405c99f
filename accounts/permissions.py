"""Who may call which REST endpoint: the access policy (accounts.policy) applied to requests.

A view grants reads to its `read_roles` and writes to its `write_roles`, or per action
through `action_roles`; a role outside them gets 403, an anonymous request 401. Which
records a CSM reaches is decided by the view's selector (their portfolio), so a record
outside it is 404, never 403; `RolePermission.has_object_permission` checks it again
for every object a view hands out, and for a write asks the policy whether the user may
change it (a view's `may_change(user, obj)` may say more: survey answers given through
their link are read-only), answering 403 with the view's `refused_change` otherwise.
"""

from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import policy
from accounts.models import Customer
from accounts.roles import ADMIN, CSM, MANAGER

EVERY_ROLE = (ADMIN, MANAGER, CSM)


def request_role(request) -> str | None:
    """Return the role of the request's user, looked up once per request."""
    return policy.role(request.user)


class RolePermission(BasePermission):
    """Allow the roles a view names for the action; hide objects of customers outside the user's portfolio."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request_role(request) in roles_for(view, request)

    def has_object_permission(self, request, view, obj):
        customer_id = obj.pk if isinstance(obj, Customer) else getattr(obj, "customer_id", None)
        if customer_id is not None and not policy.sees_all_customers(request.user):
            if not policy.may_see_customer(request.user, customer_id):
                raise Http404
        if request.method not in SAFE_METHODS and not self._may_change(request, view, obj, customer_id):
            raise PermissionDenied(getattr(view, "refused_change", None))
        return True

    def _may_change(self, request, view, obj, customer_id):
        check = getattr(view, "may_change", None)
        if check is not None:
            return check(request.user, obj)
        return customer_id is None or policy.may_change_customer(request.user, customer_id)


def roles_for(view, request) -> tuple[str, ...]:
    """Return the roles that may perform the view's current action."""
    action_roles = getattr(view, "action_roles", {})
    action = getattr(view, "action", None)
    if action in action_roles:
        return action_roles[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_roles", EVERY_ROLE)
    return getattr(view, "write_roles", (ADMIN,))
