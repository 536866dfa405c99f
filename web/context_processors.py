"""Template context every page needs: the user's role, for navigation, and whether they may write at all."""

from accounts import policy


def role(request):
    user = getattr(request, "user", None)
    if user is None:
        return {"user_role": None, "read_only": True}
    return {"user_role": policy.role(user), "read_only": policy.is_read_only(user)}
