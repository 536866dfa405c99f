"""The simulation as a whole: its configuration, the world it builds, and the CSV rows of
every import kind (spec/import.md columns), generated in import order.

Pure: no database and no clock. Everything random comes from `random.Random` instances
seeded from the configuration's seed (one per customer, one for usage, leads and costs),
so the same configuration always gives the same rows.
"""

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from . import catalog
from .company import make_costs, make_leads
from .dates import add_months, iso_date, iso_datetime, money, month_starts
from .lifecycle import Lifecycle
from .profile import draw_customer
from .records import SimCustomer
from .usage import customer_events

# Import order: every kind after the kinds it refers to.
KINDS = ("customers", "contacts", "subscriptions", "costs", "leads", "survey_responses", "tickets", "usage_events")
COLUMNS = {
    "customers": ("external_id", "name", "segment", "country", "csm", "created_at"),
    "contacts": ("customer_external_id", "external_id", "email", "name", "role", "language"),
    "subscriptions": (
        "customer_external_id", "external_id", "plan", "started_at", "ended_at", "mrr", "currency",
        "billing_period_months", "quantity", "is_trial",
    ),
    "costs": ("month", "category", "amount", "currency"),
    "leads": ("external_id", "source", "created_at", "converted_at", "customer_external_id"),
    "survey_responses": ("customer_external_id", "contact_external_id", "survey_type", "score", "comment", "responded_at"),
    "tickets": (
        "external_id", "customer_external_id", "opened_at", "first_response_at", "resolved_at", "contacts_count",
        "channel", "priority", "subject",
    ),
    "usage_events": ("customer_external_id", "user_external_id", "event_type", "occurred_at"),
}


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: `months` whole months ending at `end` (a first day of a month, exclusive)."""

    end: datetime.date
    seed: int = 42
    customers: int = 300
    months: int = 18
    csms: tuple[str, ...] = ("carla", "david")
    events_scale: float = 1.0

    def __post_init__(self):
        if self.end.day != 1:
            raise ValueError("end must be the first day of a month")
        if self.customers < 1 or self.months < 1 or self.events_scale <= 0:
            raise ValueError("customers and months must be positive, events_scale above 0")

    @property
    def start(self) -> datetime.date:
        return add_months(self.end, -self.months)


class Simulation:
    """A simulated company: build it once, then read its rows kind by kind."""

    def __init__(self, config: SimulationConfig):
        self.config = config
        months = month_starts(config.start, config.end)
        taken_names: set[str] = set()
        self.customers: list[SimCustomer] = []
        for index in range(1, config.customers + 1):
            rng = random.Random(f"{config.seed}:customer:{index}")
            customer = draw_customer(rng, index, months=months, end=config.end, csms=config.csms, taken_names=taken_names)
            self.customers.append(Lifecycle(rng, customer, months=months, end=config.end).run())
        self.leads = make_leads(config.seed, self.customers, config.start, config.end)
        self.costs = make_costs(config.seed, self.customers, self.leads, months)

    def rows(self, kind: str) -> Iterator[dict]:
        """Yield the CSV rows of `kind` as dicts keyed by COLUMNS[kind], all values strings."""
        yield from getattr(self, f"_{kind}")()

    def _customers(self):
        for c in self.customers:
            yield {"external_id": c.external_id, "name": c.name, "segment": c.segment, "country": c.country,
                   "csm": c.csm, "created_at": iso_date(c.signup)}

    def _contacts(self):
        for c in self.customers:
            for p in c.contacts:
                yield {"customer_external_id": c.external_id, "external_id": p.external_id, "email": p.email,
                       "name": p.name, "role": p.role, "language": p.language}

    def _subscriptions(self):
        for c in self.customers:
            for s in c.subscriptions:
                yield {
                    "customer_external_id": c.external_id, "external_id": s.external_id, "plan": s.plan,
                    "started_at": iso_date(s.started_at), "ended_at": iso_date(s.ended_at), "mrr": money(s.mrr_cents),
                    "currency": catalog.CURRENCY, "billing_period_months": str(s.billing_period_months),
                    "quantity": str(s.quantity), "is_trial": "true" if s.is_trial else "false",
                }

    def _costs(self):
        for row in self.costs:
            yield {"month": row["month"].strftime("%Y-%m"), "category": row["category"],
                   "amount": money(row["amount_cents"]), "currency": catalog.CURRENCY}

    def _leads(self):
        for lead in self.leads:
            yield {**lead, "created_at": iso_datetime(lead["created_at"]), "converted_at": iso_datetime(lead["converted_at"])}

    def _survey_responses(self):
        for c in self.customers:
            for r in sorted(c.responses, key=lambda r: (r.responded_at, r.contact.external_id, r.survey_type)):
                yield {"customer_external_id": c.external_id, "contact_external_id": r.contact.external_id,
                       "survey_type": r.survey_type, "score": str(r.score), "comment": r.comment,
                       "responded_at": iso_datetime(r.responded_at)}

    def _tickets(self):
        for c in self.customers:
            for t in c.tickets:
                yield {
                    "external_id": t.external_id, "customer_external_id": c.external_id,
                    "opened_at": iso_datetime(t.opened_at), "first_response_at": iso_datetime(t.first_response_at),
                    "resolved_at": iso_datetime(t.resolved_at),
                    "contacts_count": "" if t.contacts_count is None else str(t.contacts_count),
                    "channel": t.channel, "priority": t.priority, "subject": t.subject,
                }

    def _usage_events(self):
        for c in self.customers:
            yield from customer_events(self.config.seed, c, self.config.events_scale)

    def summary(self) -> dict:
        """Return the headline figures at the end of the window (events are counted by the writer)."""
        last_day = self.config.end
        paying = [c for c in self.customers if c.mrr_cents_on(last_day) > 0]
        return {
            "customers": len(self.customers),
            "paying_now": len(paying),
            "mrr_now": money(sum(c.mrr_cents_on(last_day) for c in paying)),
            "tickets": sum(len(c.tickets) for c in self.customers),
            "responses": sum(len(c.responses) for c in self.customers),
            "churned": sum(1 for c in self.customers if c.churned_on),
            "reactivated": sum(1 for c in self.customers if c.reactivated_on),
        }
