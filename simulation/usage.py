"""Product usage events, expanded lazily from a customer's monthly activity plan.

A user is active on some days; an active day holds one to three sessions; events in a
session are 1–10 minutes apart and sessions more than 30 minutes apart, so the import's
session rule (a gap over 30 minutes starts a new one) recovers them. Events are yielded,
never collected: a default run writes a few hundred thousand.
"""

import datetime
import random
from collections.abc import Iterator

from . import catalog, drivers
from .dates import at, iso_datetime
from .records import SimCustomer

MAX_EVENTS_PER_SESSION = 12
DASHBOARD_SHARE = 0.45  # of events after the login


def _session_events(rng, health: float, scale: float) -> int:
    extra = rng.expovariate(1 / (0.3 + 1.5 * health)) * scale
    return max(1, min(MAX_EVENTS_PER_SESSION, 1 + round(extra)))


def _day_events(rng, customer: SimCustomer, day: datetime.date, health: float, scale: float, onboarding=()):
    """Yield (instant, event type) for one user's active day; `onboarding` steps open its first session."""
    first_hour, last_hour = catalog.SESSION_START_HOURS.get(customer.country, catalog.DEFAULT_SESSION_START_HOURS)
    instant = at(day, rng.uniform(first_hour * 3600, last_hour * 3600))
    for session in range(drivers.sessions_per_day(rng, health)):
        steps = onboarding if session == 0 else ()
        for n in range(max(_session_events(rng, health, scale), len(steps) + 1)):
            if n:
                instant += datetime.timedelta(seconds=rng.randint(60, 600))
            if instant.date() != day:
                return
            if n == 0:
                yield instant, catalog.LOGIN
            elif n <= len(steps):
                yield instant, steps[n - 1]
            elif rng.random() < DASHBOARD_SHARE:
                yield instant, catalog.DASHBOARD
            else:
                yield instant, rng.choice(customer.features)
        instant += datetime.timedelta(seconds=rng.randint(31 * 60, 4 * 3600))


def customer_events(seed: int, customer: SimCustomer, scale: float = 1.0) -> Iterator[dict]:
    """Yield the usage_events rows of one customer, each user's in time order."""
    rng = random.Random(f"{seed}:usage:{customer.external_id}")
    # The first user's first day walks through the onboarding steps this customer will ever take.
    onboarding = tuple(step for step in catalog.ONBOARDING if step in customer.features)
    for month in customer.activity:
        for contact_index, active_days in month.users:
            user_id = customer.contacts[contact_index].external_id
            for day in sorted(rng.sample(month.days, active_days)):
                steps, onboarding = onboarding, ()
                for instant, event_type in _day_events(rng, customer, day, month.health, scale, steps):
                    yield {
                        "customer_external_id": customer.external_id,
                        "user_external_id": user_id,
                        "event_type": event_type,
                        "occurred_at": iso_datetime(instant),
                    }
