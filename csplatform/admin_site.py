"""The Django admin site: plain Django admin, or two-factor for staff when CSPLATFORM_STAFF_2FA is on.

With the setting on, the admin behaves as django-otp's `OTPAdminSite`: its login form asks
for a TOTP code and only a session verified by one of the user's devices may enter. Staff
enrol a device in admin (Django OTP › TOTP devices, which shows the QR code) while the
setting is still off, or an admin enrols it for them.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


def staff_2fa_required() -> bool:
    """Return whether the admin asks for a verified OTP device (read per request, so tests may override it)."""
    return settings.CSPLATFORM_STAFF_2FA


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

    def has_permission(self, request):
        if staff_2fa_required():
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)
