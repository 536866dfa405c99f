"""App configs of the project package."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with csplatform's admin site (optional staff two-factor)."""

    default_site = "csplatform.admin_site.CsplatformAdminSite"

    def ready(self):
        super().ready()  # autodiscover: every app's admin module, third-party ones too
        from django.contrib import admin

        from csplatform import third_party_admin

        third_party_admin.register(admin.site)
