"""The health score example of spec/kpis.md, and what a component without data does."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Contact, Customer, Subscription, Ticket
from metrics import kpis
from metrics.health import customer_health
from metrics.models import CustomerDayFeature, UserDayActivity
from surveys.models import SurveyResponse

D = datetime.date
AT = D(2024, 3, 1)


def at(day, hour=12):
    return datetime.datetime(2024, 2, day, hour, tzinfo=datetime.timezone.utc)


@pytest.fixture
def customer_a(db, settings):
    settings.CSPLATFORM_KEY_FEATURES = ["login", "report", "export", "integration"]
    a = Customer.objects.create(external_id="A", name="A")
    Subscription.objects.create(
        customer=a, plan="pro", started_at=D(2023, 11, 1), mrr=100, original_mrr=100, currency="EUR"
    )
    Subscription.objects.create(
        customer=a, plan="addon", started_at=D(2024, 2, 10), mrr=20, original_mrr=20, currency="EUR"
    )
    c1, c2, c3, c4 = (Contact.objects.create(customer=a, external_id=f"u{i}") for i in range(1, 5))
    # u1 active on 12 days, u2 on 6 days of the window [2024-01-31, 2024-03-01).
    for day in range(1, 13):
        UserDayActivity.objects.create(customer=a, contact=c1, day=D(2024, 2, day), events=3)
    for day in range(1, 7):
        UserDayActivity.objects.create(customer=a, contact=c2, day=D(2024, 2, day * 4), events=1)
    # A day before the window does not count.
    UserDayActivity.objects.create(customer=a, contact=c3, day=D(2024, 1, 30), events=5)
    for feature in ("login", "report", "export"):
        CustomerDayFeature.objects.create(customer=a, day=D(2024, 2, 3), event_type=feature, events=1)
    SurveyResponse.objects.create(customer=a, contact=c1, survey_type="nps", score=3, responded_at=at(1))
    SurveyResponse.objects.create(customer=a, contact=c1, survey_type="nps", score=9, responded_at=at(5))
    SurveyResponse.objects.create(customer=a, contact=c2, survey_type="nps", score=6, responded_at=at(6))
    for n, count in enumerate([1, 1, 3]):
        Ticket.objects.create(
            external_id=f"T{n}", customer=a, opened_at=at(1, 8), resolved_at=at(2 + n), contacts_count=count
        )
    return a


def test_health_of_the_spec_example(customer_a):
    health = customer_health(customer_a.pk, AT)
    scores = {name: c.score for name, c in health.components.items()}
    assert scores["frequency"] == 75
    assert scores["breadth"] == 50
    assert scores["depth"] == 75
    assert scores["sentiment"] == 75
    assert kpis.round_value(scores["support"], 2) == Decimal("66.67")
    assert scores["growth"] == 60
    assert health.score == Decimal("67.7")
    assert health.band == "neutral"


def test_components_show_their_inputs(customer_a):
    health = customer_health(customer_a.pk, AT)
    assert health.components["breadth"].inputs == {"active_users": 2, "known_users": 4}
    assert health.components["sentiment"].inputs == {"latest_nps_per_contact": [9, 6]}


def test_component_without_data_is_left_out_and_weights_rescale(db):
    lonely = Customer.objects.create(external_id="Z", name="Z")
    Contact.objects.create(customer=lonely, external_id="z1")
    SurveyResponse.objects.create(customer=lonely, survey_type="nps", score=10, responded_at=at(10))
    health = customer_health(lonely.pk, AT)
    # Only breadth (0 of 1 users active) and sentiment (10 → 100) have data: (20·0 + 15·100) / 35.
    assert health.components["frequency"].score is None
    assert health.components["growth"].score is None
    assert health.score == Decimal("42.9")
    assert health.band == "neutral"


def test_no_data_at_all_gives_no_score(db):
    empty = Customer.objects.create(external_id="Y", name="Y")
    health = customer_health(empty.pk, AT)
    assert health.score is None and health.band is None


@pytest.mark.parametrize(
    "score,band", [(Decimal("70"), "healthy"), (Decimal("69.9"), "neutral"), (Decimal("40"), "neutral"), (Decimal("39.9"), "at_risk")]
)
def test_bands(score, band):
    assert kpis.health_band(score) == band
