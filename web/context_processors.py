"""Template context every page needs: the user's role, for navigation."""

from accounts.roles import role_of


def role(request):
    return {"user_role": role_of(request.user) if hasattr(request, "user") else None}
