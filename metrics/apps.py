from django.apps import AppConfig

from accounts.signals import data_changed
from importing.signals import import_finished


class MetricsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'metrics'

    def ready(self):
        from metrics import receivers  # in ready(): receivers use models, which are loaded only now

        import_finished.connect(receivers.import_finished, dispatch_uid="metrics.import_finished")
        data_changed.connect(receivers.data_changed, dispatch_uid="metrics.data_changed")
