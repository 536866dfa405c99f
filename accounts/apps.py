from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'accounts'

    def ready(self):
        from django.db.models.signals import m2m_changed, post_migrate

        from accounts import signals
        from accounts.defaults import ensure_defaults
        from accounts.models import Customer

        m2m_changed.connect(
            signals.assignments_changed, sender=Customer.assigned_users.through, dispatch_uid="accounts.assignments"
        )
        post_migrate.connect(ensure_defaults, sender=self, dispatch_uid="accounts.defaults")
