"""What accounts tells the apps above it.

`ticket_resolved` (with `ticket`): a ticket written through the REST API became resolved.
surveys connects the transactional CSAT invitation to it in `SurveysConfig.ready()`.
Imported tickets do not send it: a file of past tickets must not email their contacts.
"""

from django.dispatch import Signal

ticket_resolved = Signal()  # receivers get `ticket`
