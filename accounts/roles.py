"""The three roles (Django groups). What each may see and change: accounts.policy."""

ADMIN = "admin"
MANAGER = "manager"
CSM = "csm"
ROLES = (ADMIN, MANAGER, CSM)


def role_of(user) -> str | None:
    """Return the strongest role of `user`, or None for anonymous users and users without one."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()}
    for role in ROLES:
        if role in names:
            return role
    return None
