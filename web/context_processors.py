"""Template context every page needs: the user's role, whether they may write at all, and the alerts
waiting in their inbox, for navigation."""

from accounts import policy
from alerts.inbox import inbox_count
from web.selectors import today


def role(request):
    user = getattr(request, "user", None)
    if user is None:
        return {"user_role": None, "read_only": True}
    return {"user_role": policy.role(user), "read_only": policy.is_read_only(user)}


def inbox(request):
    """`inbox_count`: open alerts waiting for the user, counted only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_count": lambda: inbox_count(user, today())}
