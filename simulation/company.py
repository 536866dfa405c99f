"""Company-level records: the leads that came in (some became the customers) and the
monthly costs in all seven categories, scaled by what the customers did that month.
"""

import datetime
import random

from . import catalog
from .dates import add_months, at
from .records import SimCustomer

LEAD_SHARE = 0.85  # of customers who came in as a lead
OPEN_LEADS_PER_CUSTOMER = 2.0  # leads that never converted, per customer
# category: (fixed cents a month, cents per unit of the driver, driver)
COSTS = {
    "cs_payroll": (650000, 4000, "paying"),
    "support_payroll": (400000, 4500, "tickets"),
    "programs": (150000, 1200, "paying"),
    "services_training": (80000, 25000, "new"),
    "customer_marketing": (100000, 800, "paying"),
    "acquisition_marketing": (300000, 4000, "leads"),
    "sales": (600000, 70000, "new"),
}


def make_leads(seed: int, customers: list[SimCustomer], start: datetime.date, end: datetime.date) -> list[dict]:
    """Return lead rows sorted by creation: converted ones for paying customers, the rest open."""
    rng = random.Random(f"{seed}:leads")
    leads = []
    for customer in customers:
        if rng.random() >= LEAD_SHARE:
            continue
        created = at(customer.signup, 0) - datetime.timedelta(seconds=rng.randint(2 * 86400, 60 * 86400))
        if customer.first_paid_on:
            converted = at(customer.first_paid_on, rng.uniform(8 * 3600, 18 * 3600))
            leads.append((created, converted, customer.external_id, rng.choice(catalog.LEAD_SOURCES)))
        else:
            leads.append((created, None, "", rng.choice(catalog.LEAD_SOURCES)))
    span = (end - start).days * 86400
    for _ in range(round(OPEN_LEADS_PER_CUSTOMER * len(customers))):
        created = at(start, rng.randrange(span))
        leads.append((created, None, "", rng.choice(catalog.LEAD_SOURCES)))
    leads.sort(key=lambda lead: (lead[0], lead[2]))
    return [
        {"external_id": f"L{n:05d}", "source": source, "created_at": created, "converted_at": converted,
         "customer_external_id": customer_id}
        for n, (created, converted, customer_id, source) in enumerate(leads, start=1)
    ]


def make_costs(seed: int, customers: list[SimCustomer], leads: list[dict], months: list[datetime.date]) -> list[dict]:
    """Return one cost row per month and category, in cents."""
    rng = random.Random(f"{seed}:costs")
    rows = []
    for month in months:
        month_end = add_months(month, 1)
        first, last = at(month, 0), at(month_end, 0)
        volume = {
            "paying": sum(1 for c in customers if c.mrr_cents_on(month) > 0),
            "new": sum(1 for c in customers if c.first_paid_on and month <= c.first_paid_on < month_end),
            "tickets": sum(1 for c in customers for t in c.tickets if first <= t.opened_at < last),
            "leads": sum(1 for lead in leads if first <= lead["created_at"] < last),
        }
        for category, (fixed, per_unit, driver) in COSTS.items():
            cents = round((fixed + per_unit * volume[driver]) * rng.uniform(0.95, 1.05))
            rows.append({"month": month, "category": category, "amount_cents": cents})
    return rows
