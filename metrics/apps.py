from django.apps import AppConfig

from accounts.signals import data_changed
from importing.signals import import_finished


class MetricsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'metrics'

    def ready(self):
        from django.db.models.signals import post_migrate

        from metrics import receivers  # in ready(): receivers use models, which are loaded only now
        from metrics.portfolio_tally import tallies_clear_when_empty

        import_finished.connect(receivers.import_finished, dispatch_uid="metrics.import_finished")
        data_changed.connect(receivers.data_changed, dispatch_uid="metrics.data_changed")
        post_migrate.connect(tallies_clear_when_empty, sender=self, dispatch_uid="metrics.tallies_clear_when_empty")
