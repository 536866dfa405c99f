"""Single sign-on by OpenID Connect (mozilla-django-oidc), with roles from a groups claim and an "SSO only" mode.

The provider is configured by its issuer URL (its endpoints come from the discovery
document, cached for an hour), a client id and secret, on the Integrations page or by
INTEGRATION_OIDC_* variables. The login page offers "Log in with single sign-on" once
an issuer and client id are set.

- A user is matched by email (any case); one unknown so far is created.
- `role_map` ("cs-admins=admin,cs-leads=manager,cs=csm") maps the provider's groups
  (claim `groups_claim`) to our roles; the strongest wins and replaces the user's role
  at every login, and a user in none of the groups is refused. Without a role map the
  roles are managed here and SSO only proves who the user is.
- With `sso_only` on, passwords are refused for everybody but superusers (the web
  login, admin and POST /api/v1/auth/token/), so the provider decides who gets in.
"""

import logging

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.roles import ADMIN, MANAGER, ROLES
from integrations import config
from integrations.models import Kind

log = logging.getLogger(__name__)
DISCOVERY_SECONDS = 3600
TRUE = {"1", "true", "yes", "on"}

_FROM_CONFIG = {"OIDC_RP_CLIENT_ID": "client_id", "OIDC_RP_CLIENT_SECRET": "client_secret"}
_FROM_DISCOVERY = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class SsoError(Exception):
    """The provider cannot be used (no discovery document)."""


def configured() -> bool:
    return config.enabled(Kind.OIDC) and bool(config.value(Kind.OIDC, "issuer") and config.value(Kind.OIDC, "client_id"))


def sso_only() -> bool:
    return configured() and config.value(Kind.OIDC, "sso_only").strip().lower() in TRUE


def discovery() -> dict:
    """The provider's discovery document (cached)."""
    issuer = config.value(Kind.OIDC, "issuer").rstrip("/")
    key = f"integrations.oidc.discovery:{issuer}"
    document = cache.get(key)
    if document is None:
        try:
            response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SsoError(f"the provider's discovery document cannot be read: {exc}") from None
        cache.set(key, document, DISCOVERY_SECONDS)
    return document


def oidc_setting(attr, *default):
    """mozilla-django-oidc's settings: client and endpoints from our configuration, the rest from settings."""
    if attr in _FROM_CONFIG:
        return config.value(Kind.OIDC, _FROM_CONFIG[attr])
    if attr in _FROM_DISCOVERY:
        return discovery().get(_FROM_DISCOVERY[attr], "")
    return import_from_settings(attr, *default)


def role_map() -> dict[str, str]:
    mapping = {}
    for pair in config.value(Kind.OIDC, "role_map").split(","):
        group, _, role = pair.partition("=")
        if group.strip() and role.strip() in ROLES:
            mapping[group.strip()] = role.strip()
    return mapping


def role_for(claims: dict) -> str | None:
    """The strongest role the claims' groups map to (None without a match)."""
    groups = claims.get(config.value(Kind.OIDC, "groups_claim")) or []
    if isinstance(groups, str):
        groups = [groups]
    mapping = role_map()
    roles = {mapping[g] for g in groups if isinstance(g, str) and g in mapping}
    return next((role for role in ROLES if role in roles), None)


def apply_role(user, role: str) -> None:
    """Give `user` exactly this role (admins and managers are staff, for the admin pages)."""
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if not user.is_superuser:
        user.is_staff = role in (ADMIN, MANAGER)
        user.save(update_fields=["is_staff"])


class PasswordBackend(ModelBackend):
    """Django's password check, refused for non-superusers while SSO only is on."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and (user.is_superuser or not sso_only())


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, configured from the Integrations page, roles from the groups claim."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The endpoints are read when a callback arrives, not for every password login.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET or "nonce" not in kwargs or not configured():
            return None
        try:
            super().__init__()
        except SsoError as exc:
            log.warning("single sign-on: %s", exc)
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims):
        if not claims.get("email"):
            return False
        return not role_map() or role_for(claims) is not None

    def create_user(self, claims):
        return self.update_user(super().create_user(claims), claims)

    def update_user(self, user, claims):
        name = (claims.get("name") or "").strip()
        if name and user.get_full_name() != name:
            user.first_name, _, user.last_name = name.partition(" ")
            user.save(update_fields=["first_name", "last_name"])
        role = role_for(claims)
        if role:
            apply_role(user, role)
        return user


class AuthenticateView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)
