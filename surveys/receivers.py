"""What surveys does when a lower app reports a change (connected in `SurveysConfig.ready()`)."""

from surveys import tasks


def ticket_resolved(sender, ticket, **kwargs):
    """Invite the ticket's contact to the transactional CSAT survey, once the write is committed."""
    tasks.ticket_resolved.delay_on_commit(ticket.pk)
