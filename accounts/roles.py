"""The three roles (Django groups) and what each may see."""

ADMIN = "admin"
MANAGER = "manager"
CSM = "csm"
ROLES = (ADMIN, MANAGER, CSM)
UNKNOWN = object()


def role_of(user) -> str | None:
    """Return the strongest role of `user`, or None for anonymous users and users without one."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    role = getattr(user, "_csplatform_role", UNKNOWN)  # asked several times a request: groups read once per user object
    if role is UNKNOWN:
        names = {g.name for g in user.groups.all()}
        role = user._csplatform_role = next((role for role in ROLES if role in names), None)
    return role


def sees_all_customers(user) -> bool:
    return role_of(user) in (ADMIN, MANAGER)


def is_admin(user) -> bool:
    return role_of(user) == ADMIN
