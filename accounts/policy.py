"""The access policy: which customers, rows and scopes a user may see, and what they may change.

Every interface asks this module (REST viewsets and permissions, the KPI rows endpoint,
the web pages and their HTMX fragments, the drill-down, CSV exports, digests, admin);
none decides by itself. Rows are filtered in the query (`visible_customers`,
`restrict`), never after. The rules, per role (accounts.roles; docs/security.md):

- **admin**: sees and changes everything.
- **manager**: sees every customer and every row kind, changes nothing (read-only in the
  web app, the REST API and admin's data).
- **csm**: sees and changes the customers they own or are assigned to and everything
  tied to them; reads KPIs of their portfolio, of any segment and of the company as
  aggregates, but no row of another portfolio and no company cost or lead rows.
- a user without a role sees nothing.

A customer outside what a user may see does not exist for them (404, never 403), so ids
and external ids do not leak; a refused action on something they may see is a 403.
Answers a contact gave through a survey link are evidence: no staff role changes them.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from accounts.models import Customer
from accounts.roles import ADMIN, CSM, MANAGER, role_of

# --- Roles ------------------------------------------------------------------------------


def role(user) -> str | None:
    """Return the user's role (looked up once per user object)."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_csplatform_role", ...)
    if cached is ...:
        cached = role_of(user)
        user._csplatform_role = cached
    return cached


def is_admin(user) -> bool:
    return role(user) == ADMIN


def sees_all_customers(user) -> bool:
    """Admins and managers read every customer."""
    return role(user) in (ADMIN, MANAGER)


def may_write(user) -> bool:
    """Whether the user may change anything at all: admins and CSMs; managers read only."""
    return role(user) in (ADMIN, CSM)


def is_read_only(user) -> bool:
    return not may_write(user)


def needs_second_factor(user) -> bool:
    """Whether `user` must confirm a one-time code (TOTP) before admin or an API token: staff, when
    the setting CSPLATFORM_STAFF_2FA is on. A token is a password that never expires, so it is
    handed to staff only as far as admin would let them in."""
    return bool(settings.CSPLATFORM_STAFF_2FA) and bool(getattr(user, "is_staff", False))


# --- Customers --------------------------------------------------------------------------


def _portfolio(user) -> Q:
    # The assignments as a set (`IN`), not a join: no duplicate rows to remove, and PostgreSQL
    # filters the customers in one pass instead of joining and de-duplicating every one of them.
    assigned = Customer.assigned_users.through.objects.filter(user=user).values("customer_id")
    return Q(owner=user) | Q(pk__in=assigned)


def visible_customers(user) -> QuerySet:
    """The customers `user` may see: all for admins and managers, their portfolio for a CSM, none otherwise."""
    if sees_all_customers(user):
        return Customer.objects.all()
    if role(user) == CSM:
        return Customer.objects.filter(_portfolio(user))
    return Customer.objects.none()


def changeable_customers(user) -> QuerySet:
    """The customers `user` may change: all for admins, their portfolio for a CSM, none for managers."""
    if is_admin(user):
        return Customer.objects.all()
    if role(user) == CSM:
        return visible_customers(user)
    return Customer.objects.none()


def restrict(queryset: QuerySet, user, field: str = "customer") -> QuerySet:
    """Return the rows of `queryset` whose `field` (a customer foreign key) is a customer `user` may see."""
    if sees_all_customers(user):
        return queryset
    if role(user) != CSM:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": Customer.objects.filter(_portfolio(user)).values("pk")})


def restrict_changeable(queryset: QuerySet, user, field: str = "customer") -> QuerySet:
    """Return the rows of `queryset` whose customer `user` may change."""
    if is_admin(user):
        return queryset
    if role(user) != CSM:
        return queryset.none()
    return restrict(queryset, user, field)


def may_see_customer(user, customer_id) -> bool:
    if customer_id is None:
        return False
    if sees_all_customers(user):
        return Customer.objects.filter(pk=customer_id).exists()
    return visible_customers(user).filter(pk=customer_id).exists()


def may_change_customer(user, customer) -> bool:
    """Whether `user` may change `customer` (a Customer or its id) and what belongs to it."""
    customer_id = getattr(customer, "pk", customer)
    if is_admin(user):
        return True
    if role(user) != CSM:
        return False
    return Customer.objects.filter(_portfolio(user), pk=customer_id).exists()


# --- Row kinds --------------------------------------------------------------------------

CUSTOMER_ROWS = "customer"  # rows of one customer: its MRR, tickets, answers, usage, cohort membership
COST_ROWS = "cost"  # company costs by month and category (payroll, marketing, sales)
LEAD_ROWS = "lead"  # leads: acquisition data not yet tied to a portfolio
ROW_KINDS = (CUSTOMER_ROWS, COST_ROWS, LEAD_ROWS)
_ROW_KINDS_OF_ROLE = {
    ADMIN: frozenset(ROW_KINDS),
    MANAGER: frozenset(ROW_KINDS),
    CSM: frozenset({CUSTOMER_ROWS}),  # and only their own customers' rows
}


def row_kinds(user) -> frozenset[str]:
    """The kinds of rows `user` may see (customer rows only of `visible_customers`)."""
    return _ROW_KINDS_OF_ROLE.get(role(user), frozenset())


def may_see_company_data(user) -> bool:
    """Costs and leads: the company's, read by admins and managers only."""
    return {COST_ROWS, LEAD_ROWS} <= row_kinds(user)


# --- KPI scopes -------------------------------------------------------------------------


def may_ask_scope(user, *, customer_id: int | None = None, csm: str | None = None) -> bool:
    """Whether `user` may ask for KPIs of a scope: one customer they see, their own portfolio
    (or any CSM's, for admins and managers), any segment or the company (aggregates)."""
    if role(user) is None:
        return False
    if customer_id is not None:
        return may_see_customer(user, customer_id)
    if csm is not None:
        if not sees_all_customers(user) and csm != user.get_username():
            return False
        return get_user_model().objects.filter(username=csm).exists()
    return True


def default_scope_label(user) -> str:
    """The scope a page opens with: the company for admins and managers, the own portfolio for a CSM."""
    return "company" if sees_all_customers(user) else f"csm:{user.get_username()}"


# --- Other writes -----------------------------------------------------------------------


def may_change_answer(user, response) -> bool:
    """Survey answers: one a contact gave through their link is theirs (read-only for every role);
    an imported or API-written one may be changed by whoever may change its customer."""
    if getattr(response, "invitation_id", None):
        return False
    return may_change_customer(user, response.customer_id)


def may_reassign_customers(user) -> bool:
    """Who owns a customer (the CSM field): admins only."""
    return is_admin(user)


def may_manage_configuration(user) -> bool:
    """Alert rules, health and churn models, surveys, imports, integrations: admins only."""
    return is_admin(user)
