"""Signed survey links: the URL carries the invitation's random token, signed with SECRET_KEY.

The token alone is already unguessable (32 random bytes); the signature lets a forged or
mangled link be refused before any database look-up.
"""

import secrets

from django.core import signing

SALT = "survey-invite"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, algorithm="sha256")


def new_token() -> str:
    """Return a fresh, unguessable invitation token (32 random bytes)."""
    return secrets.token_urlsafe(32)


def sign(token: str) -> str:
    return _signer().sign(token)


def unsign(value: str) -> str | None:
    """Return the token inside a signed link value, or None when it was forged or mangled."""
    try:
        return _signer().unsign(value)
    except signing.BadSignature:
        return None
