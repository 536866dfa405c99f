"""What alerts tells the apps above it (the integrations post them to chat).

`alert_fired` (with `alert`): a new alert was opened; sent once its transaction commits.
`digest_ready` (with `digest`): a CSM's weekly digest was claimed for sending (once per
user and week, whether or not it also goes out by email).
"""

from django.dispatch import Signal

alert_fired = Signal()  # receivers get `alert`
digest_ready = Signal()  # receivers get `digest` (alerts.digest.Digest)
