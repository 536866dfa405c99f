"""What the integrations do when a lower app reports something (connected in `IntegrationsConfig.ready()`)."""


def connect():
    """Connect every receiver to the signal its lower app owns."""
