"""What the integrations do when a lower app reports something (connected in `IntegrationsConfig.ready()`).

Receivers stay thin: each calls one function of `integrations.chat`.
"""

from alerts.signals import alert_fired, digest_ready
from integrations import chat
from surveys.signals import follow_up_needed


def on_alert_fired(sender, alert, **kwargs):
    chat.alert_notify(alert)


def on_follow_up_needed(sender, response, **kwargs):
    chat.detractor_notify(response)


def on_digest_ready(sender, digest, **kwargs):
    chat.digest_notify(digest)


def connect():
    """Connect every receiver to the signal its lower app owns."""
    alert_fired.connect(on_alert_fired, dispatch_uid="integrations.alert_fired")
    follow_up_needed.connect(on_follow_up_needed, dispatch_uid="integrations.follow_up_needed")
    digest_ready.connect(on_digest_ready, dispatch_uid="integrations.digest_ready")
