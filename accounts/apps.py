from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'accounts'

    def ready(self):
        from django.db.models.signals import m2m_changed

        from accounts import signals
        from accounts.models import Customer

        m2m_changed.connect(
            signals.assignments_changed, sender=Customer.assigned_users.through, dispatch_uid="accounts.assignments"
        )
