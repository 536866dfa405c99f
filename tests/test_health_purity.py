"""Health as of a day uses only what was known that day: a user first seen later leaves past scores alone."""

import datetime

import pytest

from accounts.models import Contact
from importing.services import import_and_announce
from metrics.health import customer_health
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = datetime.date
EVENTS = "customer_external_id,user_external_id,event_type,occurred_at\n"


def load(tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    assert import_and_announce(kind, str(path)).committed


def test_a_user_first_seen_after_the_scoring_day_does_not_change_that_days_score(tmp_path):
    customer = CustomerFactory(external_id="X")
    load(tmp_path, "usage_events", EVENTS + "".join(
        f"X,u{u},login,2026-07-{day:02d}T10:00:00Z\n" for u in (1, 2) for day in range(5, 30, 2)
    ))  # fmt: skip
    before = customer_health(customer.pk, D(2026, 8, 1))
    assert before.components["breadth"].inputs == {"active_users": 2, "known_users": 2}
    assert before.components["breadth"].score == 100

    load(tmp_path, "usage_events", EVENTS + "X,u3,login,2026-11-20T10:00:00Z\n")  # a new user, months later
    load(tmp_path, "contacts", "customer_external_id,external_id\nX,u4\n")  # and one imported today
    assert Contact.objects.get(external_id="u3").first_seen_at == datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC)
    after = customer_health(customer.pk, D(2026, 8, 1))
    assert after.components["breadth"].inputs == {"active_users": 2, "known_users": 2}  # was 2 of 4: 50
    assert after.score == before.score
    later = customer_health(customer.pk, D(2026, 11, 21))
    assert later.components["breadth"].inputs["known_users"] == 3  # u3 is known from 20 November


def test_an_earlier_event_moves_first_seen_back_but_an_undated_contact_stays_known(tmp_path):
    customer = CustomerFactory(external_id="X")
    undated = Contact.objects.create(customer=customer, external_id="old")  # created before dates were kept
    load(tmp_path, "usage_events", EVENTS + "X,u1,login,2026-09-01T10:00:00Z\n")
    load(tmp_path, "usage_events", EVENTS + "X,u1,login,2026-06-01T10:00:00Z\nX,old,login,2026-10-01T00:00:00Z\n")
    assert Contact.objects.get(external_id="u1").first_seen_at == datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.UTC)
    undated.refresh_from_db()
    assert undated.first_seen_at is None
    assert customer_health(customer.pk, D(2026, 7, 1)).components["breadth"].inputs["known_users"] == 2
