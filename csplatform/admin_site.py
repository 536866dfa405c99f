"""The Django admin site: plain Django admin, or two-factor for staff when CSPLATFORM_STAFF_2FA is on.

With the setting on, the admin behaves as django-otp's `OTPAdminSite`: its login form asks
for a TOTP code and only a session verified by one of the user's devices may enter. Staff
enrol a device in admin (Django OTP › TOTP devices, which shows the QR code) while the
setting is still off, or an admin enrols it for them.
"""

import functools

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import models
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from lib.admin_widgets import NulFreeJSONField


def staff_2fa_required() -> bool:
    """Return whether the admin asks for a verified OTP device (read per request, so tests may override it)."""
    return settings.CSPLATFORM_STAFF_2FA


def _parses(field, value) -> bool:
    try:
        key = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    return not isinstance(key, int) or -(2**63) <= key < 2**63  # SQLite raises OverflowError beyond 64 bits


def drop_unparsable_selection(view):
    """Wrap a ModelAdmin view: an action's selected ids that are not keys are dropped.

    Django filters `pk__in=<selected>` before it runs an action, so a posted
    `_selected_action=abc` raised a ValueError (a 500) instead of "no items selected".
    """
    model_admin = getattr(view, "__self__", None)
    model = getattr(model_admin, "model", None)
    if model is None:
        return view

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        if request.method == "POST" and ACTION_CHECKBOX_NAME in request.POST:
            pk = model._meta.pk
            post = request.POST.copy()
            post.setlist(ACTION_CHECKBOX_NAME, [v for v in post.getlist(ACTION_CHECKBOX_NAME) if _parses(pk, v)])
            request.POST = post
        return view(request, *args, **kwargs)

    return inner


class CsplatformAdminSite(OTPAdminSite):
    """OTPAdminSite whose OTP requirement follows the CSPLATFORM_STAFF_2FA setting."""

    def __init__(self, name="admin"):
        super().__init__(name)

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if staff_2fa_required() else AdminAuthenticationForm

    @property
    def login_template(self):
        return OTPAdminSite.login_template if staff_2fa_required() else None

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does; every model admin's JSON fields refuse NUL characters (see NulFreeJSONField)."""
        super().register(model_or_iterable, admin_class, **options)
        for model_admin in self._registry.values():
            model_admin.formfield_overrides.setdefault(models.JSONField, {}).setdefault("form_class", NulFreeJSONField)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(drop_unparsable_selection(view), cacheable)

    def has_permission(self, request):
        if staff_2fa_required():
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)
