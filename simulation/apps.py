from django.apps import AppConfig


class SimulationAppConfig(AppConfig):
    name = "simulation"
    verbose_name = "Demo data simulator"
