from django.apps import AppConfig

from accounts.signals import ticket_resolved


class SurveysConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'surveys'

    def ready(self):
        # In ready(): the import kinds and receivers use models, which are loaded only now.
        from importing.runner import register
        from surveys import imports, receivers

        register(imports.SurveyResponses)
        ticket_resolved.connect(receivers.ticket_resolved, dispatch_uid="surveys.ticket_resolved")
