from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # In ready(): the receivers use models, which are loaded only now. Every signal is
        # owned by the lower app that sends it (docs/architecture.md).
        from integrations import receivers

        receivers.connect()
