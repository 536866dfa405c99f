"""The worked example of spec/kpis.md, built row by row with the ORM (not through the import)."""

import datetime
from decimal import Decimal

from accounts.models import Contact, CostEntry, Customer, Lead, Subscription, Ticket, UsageEvent
from metrics.rollups import refresh_usage
from surveys.models import SurveyResponse

D = datetime.date
UTC = datetime.timezone.utc

SUBSCRIPTIONS = [
    ("A", "pro", D(2024, 1, 1), None, 100, False),
    ("A", "addon", D(2024, 2, 10), None, 20, False),
    ("B", "pro", D(2023, 12, 1), D(2024, 2, 15), 200, False),
    ("C", "enterprise", D(2024, 1, 1), D(2024, 2, 20), 300, False),
    ("C", "pro", D(2024, 2, 20), None, 150, False),
    ("D", "trial", D(2024, 2, 5), D(2024, 2, 19), 0, True),
    ("D", "starter", D(2024, 2, 19), None, 50, False),
    ("E", "starter", D(2023, 6, 1), D(2023, 12, 1), 80, False),
    ("E", "starter", D(2024, 2, 25), None, 80, False),
    ("F", "basic", D(2024, 1, 15), D(2024, 3, 1), 60, False),
    ("G", "trial", D(2024, 2, 10), D(2024, 2, 24), 0, True),
]
COSTS = {"cs_payroll": 3000, "support_payroll": 1000, "programs": 500, "acquisition_marketing": 900, "sales": 600}
LEADS = [
    ("L1", (2, 3), (2, 20)),
    ("L2", (2, 7), (3, 5)),
    ("L3", (2, 11), None),
    ("L4", (2, 1), (2, 2)),
    ("L5", (1, 30), (2, 3)),
]
NPS = [10, 9, 9, 8, 7, 6, 3, 10, 10, 5]
CSAT = [5, 4, 3, 5, 2, 4]
CES = [7, 6, 5, 4, 2]
TICKETS = [("T1", (2, 5), 1), ("T2", (2, 9), 3), ("T3", (2, 28), 1), ("T4", (2, 10), None), ("T5", (3, 2), 1)]
EVENTS = [
    ("A", "u1", "login", (2, 1, 9, 0)),
    ("A", "u1", "report", (2, 1, 9, 10)),
    ("A", "u1", "login", (2, 1, 9, 50)),
    ("A", "u1", "export", (2, 1, 9, 55)),
    ("A", "u1", "login", (2, 2, 10, 0)),
    ("A", "u2", "login", (2, 1, 12, 0)),
    ("A", "u2", "report", (2, 1, 12, 29)),
    ("C", "u3", "login", (2, 29, 23, 50)),
    ("C", "u3", "report", (3, 1, 0, 10)),
]

# Every figure of the spec's tables for February 2024.
EXPECTED = {
    "customers": Decimal(4),
    "logo_churn_rate": Decimal("0.5"),
    "customer_retention_rate": Decimal("0.5"),
    "mrr_opening": Decimal(660),
    "mrr": Decimal(400),
    "mrr_new": Decimal(50),
    "mrr_reactivation": Decimal(80),
    "mrr_expansion": Decimal(20),
    "mrr_contraction": Decimal(150),
    "mrr_churn": Decimal(260),
    "arpu": Decimal(100),
    "net_revenue_retention": Decimal("0.409091"),
    "gross_revenue_retention": Decimal("0.378788"),
    "revenue_churn_rate": Decimal("0.621212"),
    "trial_conversion_rate": Decimal("0.5"),
    "clv": Decimal(200),
    "customer_retention_cost": Decimal(2250),
    "cac": Decimal(1500),
    "ltv_to_cac": Decimal("0.133333"),
    "conversion_rate": Decimal("0.5"),
    "nps": Decimal(20),
    "csat": Decimal("0.666667"),
    "ces": Decimal("0.6"),
    "ces_average": Decimal("4.8"),
    "first_contact_resolution_rate": Decimal("0.666667"),
    "average_session_duration": Decimal(768),
    "mau": Decimal(3),
    "dau_average": Decimal("0.137931"),
    "dau_mau": Decimal("0.045977"),
    "events_per_active_user": Decimal("2.666667"),
}


def at(month, day, hour=12, minute=0):
    return datetime.datetime(2024, month, day, hour, minute, tzinfo=UTC)


def build_worked_example():
    """Create the example's data; return {letter: Customer}."""
    customers = {c: Customer.objects.create(external_id=c, name=f"Customer {c}", segment="SMB") for c in "ABCDEFG"}
    customers["C"].segment = "Enterprise"
    customers["C"].save()
    for letter, plan, start, end, mrr, trial in SUBSCRIPTIONS:
        Subscription.objects.create(
            customer=customers[letter], plan=plan, started_at=start, ended_at=end,
            mrr=mrr, original_mrr=mrr, currency="EUR", is_trial=trial,
        )  # fmt: skip
    for category, value in COSTS.items():
        CostEntry.objects.create(month=D(2024, 2, 1), category=category, amount=value, original_amount=value, currency="EUR")
    for external_id, created, converted in LEADS:
        Lead.objects.create(
            external_id=external_id, created_at=at(*created, 10), converted_at=at(*converted, 10) if converted else None
        )
    a = customers["A"]
    for n, score in enumerate(NPS):
        SurveyResponse.objects.create(customer=a, survey_type="nps", score=score, responded_at=at(2, 2 + n))
    SurveyResponse.objects.create(customer=a, survey_type="nps", score=0, responded_at=at(3, 1, 0, 0))
    for n, score in enumerate(CSAT):
        SurveyResponse.objects.create(customer=a, survey_type="csat", score=score, responded_at=at(2, 2 + n, 13))
    for n, score in enumerate(CES):
        SurveyResponse.objects.create(customer=a, survey_type="ces", score=score, responded_at=at(2, 2 + n, 14))
    for external_id, resolved, count in TICKETS:
        Ticket.objects.create(
            external_id=external_id, customer=a, opened_at=at(2, 1, 9), resolved_at=at(*resolved, 9), contacts_count=count
        )
    Ticket.objects.create(external_id="T6", customer=a, opened_at=at(2, 25, 9))
    contacts = {}
    for letter, user, event_type, (month, day, hour, minute) in EVENTS:
        if user not in contacts:
            contacts[user] = Contact.objects.create(customer=customers[letter], external_id=user)
        UsageEvent.objects.create(
            customer=customers[letter], contact=contacts[user], event_type=event_type, occurred_at=at(month, day, hour, minute)
        )
    refresh_usage({customers["A"].pk, customers["C"].pk}, D(2024, 2, 1), D(2024, 3, 2))
    return customers
