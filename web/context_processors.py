"""Template context every page needs: the user's role and the alerts waiting in their inbox, for navigation."""

from accounts.roles import role_of
from alerts.inbox import inbox_count
from web.selectors import today


def role(request):
    return {"user_role": role_of(request.user) if hasattr(request, "user") else None}


def inbox(request):
    """`inbox_count`: open alerts waiting for the user, counted only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_count": lambda: inbox_count(user, today())}
