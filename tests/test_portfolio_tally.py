"""The portfolio's tallies (metrics.portfolio_tally, kept by database triggers) equal a recount of the
health rows and customers after every kind of write, and the portfolio's totals read from them equal
the grouped pass over every customer they replace."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Customer, Subscription
from metrics.health_snapshots import day_scores, day_scores_forget, health_snapshot_write
from metrics.models import HealthModel, HealthScore
from metrics.portfolio_tally import tally_recount, tally_stored
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SubscriptionFactory,
    UserDayActivityFactory,
    UserFactory,
)
from web.selectors import PortfolioFilters
from web.selectors.portfolio import _portfolio_base, _tallied, _totals_by_band

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2024, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _company(owners, n=24, seed=5):
    rng = random.Random(seed)
    for i in range(n):
        customer = CustomerFactory(owner=rng.choice([*owners, None]), segment=rng.choice(["", "SMB", "Enterprise"]),
                                   name=f"c{i:03}")  # fmt: skip
        kind = rng.random()
        if kind < 0.7:
            SubscriptionFactory(customer=customer, mrr=Decimal(rng.randint(1, 90) * 10) + Decimal("0.25"),
                                started_at=TODAY - datetime.timedelta(days=rng.randint(10, 400)))  # fmt: skip
        elif kind < 0.85:
            SubscriptionFactory(customer=customer, started_at=datetime.date(2023, 1, 1), ended_at=datetime.date(2024, 1, 1))
        contact = ContactFactory(customer=customer)
        for day in rng.sample(range(1, 30), rng.randint(0, 12)):
            UserDayActivityFactory(customer=customer, contact=contact, day=TODAY - datetime.timedelta(days=day))


def _assert_tallied():
    assert tally_stored() == tally_recount()


def test_the_tallies_equal_a_recount_after_every_kind_of_write(csm, outsider):
    _company([csm, outsider])
    _assert_tallied()  # customers created one by one
    health_snapshot_write(TODAY)  # the nightly upsert: inserts
    health_snapshot_write(TODAY - datetime.timedelta(days=1))
    _assert_tallied()
    assert tally_stored()[0]
    Subscription.objects.filter(customer__name__in=["c001", "c002", "c003"]).update(ended_at=TODAY - datetime.timedelta(days=2))
    health_snapshot_write(TODAY)  # the same rows again, changed: updates
    _assert_tallied()
    day_scores_forget(Customer.objects.filter(name__in=["c004", "c005"]).values_list("pk", flat=True), TODAY)
    _assert_tallied()  # deletes
    HealthScore.objects.filter(customer__name="c006").update(mrr=None)  # an incomplete row counts nothing
    HealthScore.objects.filter(customer__name="c007").update(band="at_risk", mrr=Decimal("12.5"), former=True)
    _assert_tallied()
    moved = Customer.objects.get(name="c008")
    moved.owner, moved.segment = outsider if moved.owner != outsider else csm, "Mid-Market"
    moved.save()  # a customer changes owner and segment: its rows of every day move
    _assert_tallied()
    Customer.objects.filter(name__in=["c009", "c010"]).update(owner=None)
    Customer.objects.filter(name="c011").update(segment="SMB")
    Customer.objects.filter(name="c012").update(name="renamed")  # neither owner nor segment
    _assert_tallied()
    Customer.objects.bulk_create([Customer(name=f"bulk {i}", external_id=f"bulk-{i}", owner=csm, segment="SMB") for i in range(3)])
    health_snapshot_write(TODAY, list(Customer.objects.filter(name__startswith="bulk").values_list("pk", flat=True)))
    _assert_tallied()
    Customer.objects.filter(name__in=["c013", "bulk 1"]).delete()  # the rows go first (cascade), then the customer
    _assert_tallied()
    outsider.delete()  # its customers lose their owner (SET_NULL)
    _assert_tallied()
    HealthScore.objects.filter(day=TODAY - datetime.timedelta(days=1)).delete()
    _assert_tallied()


def test_the_tally_keeps_each_models_rows_apart(csm):
    _company([csm], n=12, seed=9)
    for name in ("s1", "s2"):
        SubscriptionFactory(customer=CustomerFactory(owner=csm, segment="SMB", name=name), mrr=Decimal(70))
    health_snapshot_write(TODAY)
    default = HealthModel.objects.get(status=HealthModel.Status.PUBLISHED, segment="")
    smb = HealthModel.objects.create(
        name="SMB", segment="SMB", version=1, weights=default.weights, status=HealthModel.Status.PUBLISHED,
        published_at=NOW,
    )  # fmt: skip
    health_snapshot_write(TODAY)  # the SMB customers get a second row, by their own model
    _assert_tallied()
    base = _portfolio_base(csm, PortfolioFilters(), TODAY)
    stored = day_scores(TODAY)
    tallied = _tallied(csm, PortfolioFilters(status="all"), TODAY, stored)
    assert tallied == _totals_by_band(base, stored, None, "all")
    assert smb.scores.count() == Customer.objects.filter(segment="SMB").count() > 0


@pytest.mark.parametrize("status", ["", "former", "all"])
@pytest.mark.parametrize("segment", ["", "SMB"])
@pytest.mark.parametrize("viewer", ["csm", "manager", "manager_of_carla", "teammate"])
def test_the_totals_from_the_tallies_equal_the_pass_over_every_customer(
    request, csm, outsider, manager, status, segment, viewer
):
    _company([csm, outsider], n=30, seed=3)
    shared = list(Customer.objects.exclude(owner=csm)[:4])
    for customer in shared:  # assigned to carla, owned by someone else or no one
        customer.assigned_users.add(csm)
    Customer.objects.filter(owner=csm).first().assigned_users.add(csm)  # owned and assigned: counted once
    health_snapshot_write(TODAY)
    CustomerFactory(owner=csm, segment="SMB")  # new today: no stored row yet
    user = {"csm": csm, "manager": manager, "manager_of_carla": manager, "teammate": outsider}[viewer]
    filters = PortfolioFilters(status=status, segment=segment, csm="carla" if viewer == "manager_of_carla" else "")
    stored = day_scores(TODAY)
    expected = _totals_by_band(_portfolio_base(user, filters, TODAY), stored, None, status)
    assert _tallied(user, filters, TODAY, stored) == expected
    assert expected.get(None, {}).get("customers") == (1 if viewer != "teammate" else None)


def test_a_csms_page_shows_the_tallied_totals_and_segments(client, csm, outsider):
    _company([csm, outsider], n=20, seed=4)
    Customer.objects.filter(owner=outsider, segment="Enterprise").first().assigned_users.add(csm)
    CustomerFactory(owner=outsider, segment="Only theirs")
    client.force_login(csm)
    context = client.get(reverse("web:portfolio"), {"status": "all"}).context  # stores the day's rows first
    visible = Customer.objects.filter(pk__in=_portfolio_base(csm, PortfolioFilters(), TODAY).values("pk"))
    assert context["total"] == visible.count()
    segments = [value for value, _label in context["form"].fields["segment"].choices if value]
    assert segments == sorted(set(visible.exclude(segment="").values_list("segment", flat=True)))
    assert "Only theirs" not in segments


def test_a_user_who_sees_no_customer_gets_no_tallied_totals(client, csm, db):
    _company([csm], n=3)
    nobody = UserFactory()
    assert _tallied(nobody, PortfolioFilters(), TODAY, day_scores(TODAY)) is None
