"""One month of a customer's life as its users, help desk and surveys record it: who was
active on how many days, which tickets were opened and how they went, what was answered.
"""

import datetime

from . import catalog, drivers, texts
from .dates import at
from .records import ActivityMonth, SimCustomer, SimResponse, SimTicket

COMMENT_SHARE = {"negative": 0.75, "neutral": 0.4, "positive": 0.55}
NPS_PER_CONTACT = 0.05  # monthly chance that a contact answers an NPS survey
CES_PER_CONTACT = 0.02
CSAT_PER_TICKET = 0.4
NO_COUNT_SHARE = 0.08  # resolved tickets whose help desk recorded no contact count


def plan_usage(rng, customer: SimCustomer, days: list[datetime.date], month_days: int, health: float) -> ActivityMonth:
    """Decide which contacts are active this month and on how many of the usable `days`."""
    fraction = len(days) / month_days
    share = drivers.active_share(rng, health)
    users = []
    for index, _contact in enumerate(customer.contacts):
        if rng.random() < share:
            mean = drivers.active_days_mean(health) * fraction
            users.append((index, max(1, min(len(days), round(rng.gauss(mean, 1.5))))))
    return ActivityMonth(days=tuple(days), users=tuple(users), health=health)


def open_tickets(rng, customer: SimCustomer, days, health, segment, *, end: datetime.datetime) -> list[SimTicket]:
    """Return the tickets opened on the usable `days`; anything resolved at or after `end` is still open."""
    fraction = len(days) / 30
    language = customer.contacts[0].language
    opened_count = drivers.poisson(rng, drivers.ticket_rate(health, segment.ticket_factor) * fraction)
    opened_times = sorted(at(rng.choice(days), rng.uniform(7 * 3600, 19 * 3600)) for _ in range(opened_count))
    tickets = []
    for opened in opened_times:
        first_response = opened + datetime.timedelta(minutes=rng.expovariate(1 / 90) + 2)
        resolved, count = None, None
        if rng.random() >= drivers.unresolved_probability(health):
            resolved = first_response + datetime.timedelta(hours=rng.expovariate(1 / drivers.resolution_hours_mean(health)))
            if rng.random() < drivers.first_contact_probability(health):
                count = 1
            else:
                count = 2 + min(6, int(rng.expovariate(0.7)))
            if rng.random() < NO_COUNT_SHARE:
                count = None
        if resolved and resolved >= end:
            resolved, count = None, None
        tickets.append(
            SimTicket(
                external_id=f"{customer.external_id}-T{len(customer.tickets) + len(tickets) + 1:04d}",
                opened_at=opened,
                first_response_at=first_response if first_response < end else None,
                resolved_at=resolved,
                contacts_count=count,
                channel=rng.choice(catalog.TICKET_CHANNELS),
                priority=rng.choice(catalog.TICKET_PRIORITIES),
                subject=rng.choice(texts.TICKET_SUBJECTS[language]),
            )
        )
    return tickets


def _response(rng, contact, survey_type, value, responded_at) -> SimResponse:
    mood = texts.sentiment(survey_type, value)
    comment = ""
    if rng.random() < COMMENT_SHARE[mood]:
        comment = rng.choice(texts.COMMENTS[(contact.language, mood)])
    return SimResponse(contact, survey_type, value, comment, responded_at)


def answer_surveys(rng, customer: SimCustomer, days, health, tickets, *, end: datetime.datetime) -> list[SimResponse]:
    """Return this month's NPS and CES answers and the CSAT answers to its resolved tickets."""
    responses = []
    for contact in customer.contacts:
        if rng.random() < NPS_PER_CONTACT:
            when = at(rng.choice(days), rng.uniform(8 * 3600, 19 * 3600))
            responses.append(_response(rng, contact, "nps", drivers.score(rng, health, 0, 10), when))
        if rng.random() < CES_PER_CONTACT:
            when = at(rng.choice(days), rng.uniform(8 * 3600, 19 * 3600))
            responses.append(_response(rng, contact, "ces", drivers.score(rng, health, 1, 7), when))
    for ticket in tickets:
        if ticket.resolved_at and rng.random() < CSAT_PER_TICKET:
            when = ticket.resolved_at + datetime.timedelta(hours=rng.uniform(1, 36))
            if when < end:
                bonus = 0.4 if ticket.contacts_count == 1 else -0.6
                value = drivers.score(rng, health, 1, 5, bonus=bonus)
                responses.append(_response(rng, rng.choice(customer.contacts), "csat", value, when))
    return responses
