"""What accounts tells the apps above it.

`ticket_resolved` (with `ticket`): a ticket written through the REST API or a support
integration (Zendesk) became resolved; `announce_if_resolved` decides when.
surveys connects the transactional CSAT invitation to it in `SurveysConfig.ready()`.
Imported tickets do not send it: a file of past tickets must not email their contacts.
"""

from django.dispatch import Signal

ticket_resolved = Signal()  # receivers get `ticket`


def announce_if_resolved(was_resolved, ticket) -> None:
    """Send `ticket_resolved` if this write resolved `ticket` (it had no `resolved_at` before: `was_resolved`)."""
    if was_resolved is None and ticket.resolved_at is not None:
        ticket_resolved.send(sender=type(ticket), ticket=ticket)
