"""The portfolio's tallies (metrics.portfolio_tally, kept by database triggers) equal a recount of the
health rows and customers after every kind of write, and the portfolio's totals read from them equal
the grouped pass over every customer they replace."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.db.models.functions import Lower
from django.urls import reverse

from accounts.models import Customer, Subscription
from metrics.health_snapshots import day_scores, day_scores_forget, health_snapshot_write
from metrics.models import HealthModel, HealthScore
from metrics.models import PortfolioFigure
from metrics.portfolio_tally import tally_recount, tally_stored
from accounts.models import Task, Ticket
from surveys.models import SurveyResponse
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
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


def _figures_recounted():
    """Every customer's figures counted afresh (what the page shows in its rows)."""
    figures = {}
    for customer in Customer.objects.annotate(lowered=Lower("name")):  # the database's lower(), as the name sort's
        nps = SurveyResponse.objects.filter(customer=customer, survey_type="nps").order_by("-responded_at", "-pk").first()
        figures[customer.pk] = (
            customer.lowered, customer.name,
            Task.objects.filter(customer=customer, completed_at__isnull=True).count(),
            Ticket.objects.filter(customer=customer, resolved_at__isnull=True).count(),
            None if nps is None else nps.score,
        )  # fmt: skip
    return figures


def _assert_figures():
    stored = {
        f.customer_id: (f.name_lower, f.name, f.open_tasks, f.open_tickets, f.latest_nps)
        for f in PortfolioFigure.objects.all()
    }
    assert stored == _figures_recounted()


def test_the_figures_equal_a_recount_after_every_kind_of_write(csm):
    a, b = CustomerFactory(owner=csm, name="Alpha"), CustomerFactory(owner=csm, name="Beta")
    _assert_figures()  # created with the customer
    tasks = [TaskFactory(customer=a, assignee=csm) for _ in range(3)]
    TaskFactory(customer=b, assignee=csm)
    _assert_figures()
    tasks[0].completed_at = NOW
    tasks[0].save()
    Task.objects.filter(pk=tasks[1].pk).update(customer=b)  # moved to another customer
    tasks[2].delete()
    _assert_figures()
    Task.objects.bulk_create([Task(customer=a, title=f"t{i}", assignee=csm, created_at=NOW) for i in range(2)])
    Task.objects.filter(customer=b).update(completed_at=NOW)
    _assert_figures()
    tickets = [TicketFactory(customer=a, resolved_at=None) for _ in range(2)]
    TicketFactory(customer=b)
    _assert_figures()
    Ticket.objects.filter(pk=tickets[0].pk).update(resolved_at=NOW)
    tickets[1].delete()
    _assert_figures()
    contact = ContactFactory(customer=a)
    first = SurveyResponseFactory(customer=a, contact=contact, score=3, responded_at=NOW - datetime.timedelta(days=9))
    latest = SurveyResponseFactory(customer=a, contact=contact, score=9, responded_at=NOW - datetime.timedelta(days=1))
    _assert_figures()
    assert PortfolioFigure.objects.get(customer=a).latest_nps == 9
    SurveyResponse.objects.filter(pk=latest.pk).update(score=10)
    _assert_figures()
    latest.delete()  # the answer before is the latest again
    _assert_figures()
    SurveyResponse.objects.filter(pk=first.pk).update(survey_type="csat")
    _assert_figures()
    a.name = "Älpha renamed"
    a.save()
    Customer.objects.filter(pk=b.pk).update(name="BETA")
    _assert_figures()
    Customer.objects.bulk_create([Customer(name="Gamma", external_id="g", owner=csm)])
    b.delete()
    _assert_figures()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_has_empty_tallies():
    """SQLite's flush deletes row by row and fires the triggers in its own table order (PostgreSQL truncates):
    the post_migrate handler empties what counts rows that are gone, as a transactional test leaves them."""
    from django.core.management import call_command

    owner = UserFactory()
    _company([owner], n=6)
    health_snapshot_write(TODAY)
    TaskFactory(customer=Customer.objects.first())
    assert tally_stored() == tally_recount() != ({}, {})

    call_command("flush", interactive=False, verbosity=0)

    assert tally_stored() == ({}, {}) and not PortfolioFigure.objects.exists()
