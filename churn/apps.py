from django.apps import AppConfig

from accounts.signals import data_changed
from importing.signals import import_finished


class ChurnConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "churn"
    verbose_name = "Churn model"

    def ready(self):
        from churn import receivers  # in ready(): receivers use models, which are loaded only now

        import_finished.connect(receivers.import_finished, dispatch_uid="churn.import_finished")
        data_changed.connect(receivers.data_changed, dispatch_uid="churn.data_changed")
