"""The simulated world's records: plain dataclasses that the row generators turn into CSV rows.

Instants are naive datetimes in UTC; money is integer cents.
"""

import datetime
from dataclasses import dataclass, field


@dataclass
class SimContact:
    external_id: str
    name: str
    email: str
    role: str
    language: str


@dataclass
class SimSubscription:
    external_id: str
    plan: str
    started_at: datetime.date
    ended_at: datetime.date | None
    mrr_cents: int
    billing_period_months: int
    quantity: int
    is_trial: bool = False

    def is_active_on(self, day: datetime.date) -> bool:
        return self.started_at <= day and (self.ended_at is None or day < self.ended_at)


@dataclass
class SimTicket:
    external_id: str
    opened_at: datetime.datetime
    first_response_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    contacts_count: int | None
    channel: str
    priority: str
    subject: str

    def is_unresolved_at(self, instant: datetime.datetime) -> bool:
        return self.resolved_at is None or self.resolved_at >= instant


@dataclass
class SimResponse:
    contact: SimContact
    survey_type: str
    score: int
    comment: str
    responded_at: datetime.datetime


@dataclass
class ActivityMonth:
    """Who used the product in one month: the days it was usable and (contact index, active days)."""

    days: tuple[datetime.date, ...]
    users: tuple[tuple[int, int], ...]
    health: float


@dataclass
class SimCustomer:
    index: int
    external_id: str
    name: str
    segment: str
    country: str
    csm: str
    signup: datetime.date
    latent_health: float  # at sign-up; the quantity the churn tests group by
    features: tuple[str, ...]
    contacts: list[SimContact] = field(default_factory=list)
    subscriptions: list[SimSubscription] = field(default_factory=list)
    tickets: list[SimTicket] = field(default_factory=list)
    responses: list[SimResponse] = field(default_factory=list)
    activity: list[ActivityMonth] = field(default_factory=list)
    first_paid_on: datetime.date | None = None
    churned_on: list[datetime.date] = field(default_factory=list)
    reactivated_on: list[datetime.date] = field(default_factory=list)
    trial: bool = False

    def mrr_cents_on(self, day: datetime.date) -> int:
        """Return the paying MRR (non-trial rows) active on `day`."""
        return sum(s.mrr_cents for s in self.subscriptions if not s.is_trial and s.is_active_on(day))
