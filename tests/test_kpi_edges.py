"""Edge cases the conventions of spec/kpis.md name, through the database and the rollups."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Contact, Customer, Subscription, Ticket, UsageEvent
from metrics.models import UsageSession
from metrics.periods import Period
from metrics.rollups import refresh_usage
from metrics.selectors import Scope, compute_kpis
from surveys.models import SurveyResponse

D = datetime.date
UTC = datetime.timezone.utc
MARCH = Period(D(2024, 3, 1), D(2024, 4, 1))


def sub(customer, start, end, mrr, trial=False, plan="pro"):
    return Subscription.objects.create(
        customer=customer, plan=plan, started_at=start, ended_at=end, mrr=mrr, original_mrr=mrr,
        currency="EUR", is_trial=trial,
    )  # fmt: skip


@pytest.fixture
def customer(db):
    return Customer.objects.create(external_id="X", name="X")


def test_row_ending_exactly_at_end_is_not_paying_at_end(customer):
    sub(customer, D(2024, 1, 1), D(2024, 4, 1), 60)
    r = compute_kpis(Scope(), MARCH, ["customers", "logo_churn_rate", "mrr_churn", "mrr_opening"])
    assert r["customers"].value == 0
    assert r["logo_churn_rate"].value == 1
    assert r["mrr_churn"].value == 60 and r["mrr_opening"].value == 60


def test_row_starting_exactly_at_start_is_paying_at_start(customer):
    sub(customer, D(2024, 3, 1), None, 60)
    r = compute_kpis(Scope(), MARCH, ["mrr_opening", "mrr_new"])
    assert r["mrr_opening"].value == 60 and r["mrr_new"].value == 0


def test_reactivation_is_not_new(customer):
    sub(customer, D(2023, 1, 1), D(2023, 6, 1), 80)
    sub(customer, D(2024, 3, 10), None, 90)
    r = compute_kpis(Scope(), MARCH, ["mrr_new", "mrr_reactivation", "cac"])
    assert r["mrr_new"].value == 0 and r["mrr_reactivation"].value == 90


def test_leaving_and_returning_inside_the_period_is_not_churn(customer):
    sub(customer, D(2024, 1, 1), D(2024, 3, 10), 100)
    sub(customer, D(2024, 3, 20), None, 100)
    r = compute_kpis(Scope(), MARCH, ["logo_churn_rate", "mrr_churn", "mrr_reactivation"])
    assert r["logo_churn_rate"].value == 0
    assert r["mrr_churn"].value == 0 and r["mrr_reactivation"].value == 0


def test_trial_rows_are_not_mrr(customer):
    sub(customer, D(2024, 2, 1), None, 0, trial=True)
    sub(customer, D(2024, 2, 1), None, 30, trial=True, plan="paid-trial")
    r = compute_kpis(Scope(), MARCH, ["mrr", "customers"])
    assert r["mrr"].value == 0 and r["customers"].value == 0


def test_empty_period_gives_null_with_reasons(db):
    r = compute_kpis(Scope(), MARCH)
    for key in ("logo_churn_rate", "arpu", "net_revenue_retention", "nps", "csat", "ces", "dau_mau", "clv", "cac"):
        assert r[key].value is None, key
        assert r[key].reason, key
    assert r["mrr"].value == 0 and r["mau"].value == 0


def test_empty_period_through_the_api(db, client, admin_user):
    client.force_login(admin_user)
    body = client.get("/api/v1/kpis/", {"start": "2024-03-01", "end": "2024-04-01", "keys": "csat,mrr"}).json()
    assert body["kpis"]["csat"] == {"value": None, "numerator": 0, "denominator": 0, "reason": "no CSAT responses in the period"}
    assert body["kpis"]["mrr"] == {"value": 0}


def test_responses_at_the_boundaries(customer):
    for score, moment in [(10, datetime.datetime(2024, 3, 1, tzinfo=UTC)), (0, datetime.datetime(2024, 4, 1, tzinfo=UTC)),
                          (0, datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC))]:  # fmt: skip
        SurveyResponse.objects.create(customer=customer, survey_type="nps", score=score, responded_at=moment)
    assert compute_kpis(Scope(), MARCH, ["nps"])["nps"].value == 100


def test_tickets_without_count_or_unresolved_are_left_out(customer):
    t = datetime.datetime(2024, 3, 5, tzinfo=UTC)
    Ticket.objects.create(external_id="1", customer=customer, opened_at=t, resolved_at=t, contacts_count=2)
    Ticket.objects.create(external_id="2", customer=customer, opened_at=t, resolved_at=t)
    Ticket.objects.create(external_id="3", customer=customer, opened_at=t)
    r = compute_kpis(Scope(), MARCH, ["first_contact_resolution_rate"])["first_contact_resolution_rate"]
    assert (r.value, r.numerator, r.denominator) == (0, 0, 1)


def _events(customer, contact, minutes, base=datetime.datetime(2024, 3, 5, 9, tzinfo=UTC), session_id=""):
    for m in minutes:
        UsageEvent.objects.create(
            customer=customer, contact=contact, event_type="click",
            occurred_at=base + datetime.timedelta(minutes=m), session_id=session_id,
        )  # fmt: skip


def test_a_gap_of_exactly_30_minutes_stays_in_the_session(customer):
    user = Contact.objects.create(customer=customer, external_id="u")
    _events(customer, user, [0, 30, 60, 90 + 1 / 60_000_000])  # last gap: 30 minutes and 1 µs
    refresh_usage({customer.pk}, D(2024, 3, 1), D(2024, 4, 1))
    sessions = list(UsageSession.objects.order_by("started_at").values_list("events", "duration_us"))
    assert sessions == [(3, 3_600_000_000), (1, 0)]


def test_late_events_merge_sessions_as_if_imported_at_once(customer):
    user = Contact.objects.create(customer=customer, external_id="u")
    _events(customer, user, [0, 10, 50, 60])
    refresh_usage({customer.pk}, D(2024, 3, 5), D(2024, 3, 6))
    assert UsageSession.objects.count() == 2
    _events(customer, user, [30])  # arrives late and bridges the 40-minute gap
    refresh_usage({customer.pk}, D(2024, 3, 5), D(2024, 3, 6))
    assert list(UsageSession.objects.values_list("events", "duration_us")) == [(5, 3_600_000_000)]
    r = compute_kpis(Scope(), MARCH, ["average_session_duration"])["average_session_duration"]
    assert r.value == 3600


def test_session_crossing_midnight_belongs_to_the_period_it_starts_in(customer):
    user = Contact.objects.create(customer=customer, external_id="u")
    _events(customer, user, [0, 20], base=datetime.datetime(2024, 3, 31, 23, 50, tzinfo=UTC))
    refresh_usage({customer.pk}, D(2024, 3, 31), D(2024, 4, 2))
    march = compute_kpis(Scope(), MARCH, ["average_session_duration", "mau", "events_per_active_user"])
    assert march["average_session_duration"].value == 1200
    assert march["events_per_active_user"].value == 1  # the April event is April's
    april = compute_kpis(Scope(), Period(D(2024, 4, 1), D(2024, 5, 1)), ["average_session_duration", "mau"])
    assert april["average_session_duration"].value is None and april["mau"].value == 1


def test_events_with_a_session_id_form_their_own_session(customer):
    user = Contact.objects.create(customer=customer, external_id="u")
    _events(customer, user, [0, 120], session_id="s-1")  # two hours apart, one session by id
    refresh_usage({customer.pk}, D(2024, 3, 5), D(2024, 3, 6))
    assert list(UsageSession.objects.values_list("session_key", "events", "duration_us")) == [
        ("s-1", 2, 7_200_000_000)
    ]


def test_rebuild_is_idempotent(customer):
    user = Contact.objects.create(customer=customer, external_id="u")
    _events(customer, user, [0, 5, 100])
    for _ in range(2):
        refresh_usage({customer.pk}, D(2024, 3, 1), D(2024, 4, 1))
    r = compute_kpis(Scope(), MARCH, ["mau", "dau_average", "average_session_duration"])
    assert r["mau"].value == 1
    assert r["dau_average"].value == Decimal(1) / 31
    assert r["average_session_duration"].value == 150


def test_quarter_clv_uses_the_sum_over_its_months(customer, db):
    other = Customer.objects.create(external_id="Y", name="Y")
    sub(customer, D(2023, 1, 1), D(2024, 2, 10), 100)
    sub(other, D(2023, 1, 1), None, 100)
    r = compute_kpis(Scope(), Period(D(2024, 1, 1), D(2024, 4, 1)), ["clv", "arpu"])
    # months: Jan 0/2, Feb 1/2, Mar 0/1 → monthly churn 1/5; ARPU 100 → CLV 500.
    assert r["clv"].value == 500
