"""The portfolio counted, summed, sorted and cut in the database: the figures it showed when it
built every row in Python, a query count that does not grow with the portfolio, and today's
stored scores forgotten when an import changes what they were computed from."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from importing.base import ImportResult
from importing.signals import announce
from metrics.health import health_for_customers
from metrics.health_snapshots import day_scores
from metrics.selectors import Scope, mrr_by_customer
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
    UserDayActivityFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2024, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
BANDS = ("healthy", "neutral", "at_risk")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _company(n, owner, seed=7):
    """`n` customers of `owner` with varied activity, answers, tickets and revenue (some churned, some prospects)."""
    rng = random.Random(seed)
    for i in range(n):
        customer = CustomerFactory(owner=owner, name=f"{rng.choice('abcXYZ')}customer {i:03}",
                                   segment=rng.choice(["SMB", "Enterprise"]))  # fmt: skip
        kind = rng.random()
        if kind < 0.8:  # paying; a few end their contract soon
            ended = TODAY + datetime.timedelta(days=rng.randint(5, 200)) if rng.random() < 0.3 else None
            SubscriptionFactory(customer=customer, mrr=Decimal(rng.randint(1, 90) * 10),
                                started_at=TODAY - datetime.timedelta(days=rng.randint(10, 400)), ended_at=ended)  # fmt: skip
        elif kind < 0.9:  # churned
            SubscriptionFactory(customer=customer, started_at=datetime.date(2023, 1, 1), ended_at=datetime.date(2024, 1, 1))
        contacts = [ContactFactory(customer=customer) for _ in range(rng.randint(1, 3))]
        for contact in contacts[: rng.randint(0, len(contacts))]:
            for day in rng.sample(range(1, 30), rng.randint(1, 14)):
                UserDayActivityFactory(customer=customer, contact=contact, day=TODAY - datetime.timedelta(days=day))
        if rng.random() < 0.6:
            SurveyResponseFactory(customer=customer, contact=contacts[0], score=rng.randint(0, 10),
                                  responded_at=NOW - datetime.timedelta(days=rng.randint(2, 100)))  # fmt: skip
        if rng.random() < 0.5:
            TicketFactory(customer=customer)
        if rng.random() < 0.3:
            TaskFactory(customer=customer, assignee=owner)


def _all_rows(client, **params):
    """Every row of the portfolio, page by page, and the first page's response."""
    first = client.get(reverse("web:portfolio"), params)
    rows = list(first.context["rows"])
    for number in range(2, first.context["page"].paginator.num_pages + 1):
        rows += client.get(reverse("web:portfolio"), {**params, "page": number}).context["rows"]
    return first, rows


def test_portfolio_shows_the_figures_computed_row_by_row(client, csm):
    _company(40, csm)
    client.force_login(csm)
    first, rows = _all_rows(client, status="all")
    ids = [r.customer.pk for r in rows]
    health = health_for_customers(ids, TODAY)  # what the page computed before, customer by customer
    mrr = mrr_by_customer(Scope(csm=csm.username), TODAY)
    assert len(rows) == len(set(ids)) == first.context["total"] == 40
    assert first.context["bands"] == {b: sum(1 for h in health.values() if h.band == b) for b in BANDS}
    assert first.context["mrr_total"] == sum(mrr.values(), Decimal(0)) > 0
    for row in rows:
        live = health[row.customer.pk]
        assert row.band == live.band
        assert row.health_score == (None if live.score is None else live.score.quantize(Decimal("0.1")))
        assert row.mrr == mrr.get(row.customer.pk, Decimal(0))


@pytest.mark.parametrize(
    "sort",
    ["name", "-name", "health", "-health", "mrr", "-mrr", "renewal", "nps", "-open_tasks", "-open_tickets", "last_activity",
     "mrr_change"],
)  # fmt: skip
def test_portfolio_sorts_as_the_rows_sorted_in_python(client, csm, sort):
    _company(30, csm, seed=11)
    client.force_login(csm)
    _, rows = _all_rows(client, status="all", sort=sort)
    key = {
        "name": lambda r: r.customer.name.lower(),
        "health": lambda r: (r.health_score is None, r.health_score or 0),
        "mrr": lambda r: r.mrr,
        "renewal": lambda r: (r.renewal_on is None, r.renewal_on or datetime.date.max),
        "nps": lambda r: (r.latest_nps is None, r.latest_nps if r.latest_nps is not None else 0),
        "open_tasks": lambda r: r.open_tasks,
        "open_tickets": lambda r: r.open_tickets,
        "last_activity": lambda r: (r.last_activity_on is None, r.last_activity_on or datetime.date.max),
        "mrr_change": lambda r: r.mrr_change,
    }[sort.lstrip("-")]
    values = [key(r) for r in rows]
    assert values == sorted(values, reverse=sort.startswith("-"))
    assert len({r.customer.pk for r in rows}) == 30


@pytest.mark.parametrize("sort", ["-open_tasks", "-open_tickets", "nps", "last_activity"])
def test_sorts_by_a_stored_figure_break_ties_by_name_as_before(client, csm, sort):
    _company(30, csm, seed=13)
    client.force_login(csm)
    _, rows = _all_rows(client, status="all", sort=sort)
    figure = {
        "-open_tasks": lambda r: -r.open_tasks,
        "-open_tickets": lambda r: -r.open_tickets,
        "nps": lambda r: (r.latest_nps is None, r.latest_nps or 0),
        "last_activity": lambda r: (r.last_activity_on is None, r.last_activity_on or datetime.date.max),
    }[sort]
    keys = [(figure(r), r.customer.name.lower(), r.customer.name, r.customer.pk) for r in rows]
    assert keys == sorted(keys)


def test_band_filter_totals_are_the_bands_customers(client, csm):
    _company(30, csm, seed=3)
    client.force_login(csm)
    everyone = client.get(reverse("web:portfolio"), {"status": "all"}).context
    for band in BANDS:
        first, rows = _all_rows(client, status="all", band=band)
        assert first.context["total"] == everyone["bands"][band] == len(rows)
        assert {r.band for r in rows} <= {band}
        assert first.context["mrr_total"] == sum((r.mrr for r in rows), Decimal(0))


@pytest.mark.parametrize("persona", ["csm", "manager"])
def test_query_count_does_not_grow_with_the_portfolio(client, csm, persona, request, django_assert_max_num_queries):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    _company(5, csm, seed=1)
    client.get(reverse("web:portfolio"))  # stores today's scores
    small = []
    with connection.execute_wrapper(lambda execute, *args: small.append(1) or execute(*args)):
        client.get(reverse("web:portfolio"), {"sort": "-mrr"})
    _company(60, csm, seed=2)
    client.get(reverse("web:portfolio"))
    with django_assert_max_num_queries(len(small)):
        response = client.get(reverse("web:portfolio"), {"sort": "-mrr"})
    assert response.context["total"] >= 50
    assert len(response.context["rows"]) == 25


def test_an_import_forgets_todays_scores_of_the_customers_it_touched(client, csm):
    _company(3, csm, seed=5)
    client.force_login(csm)
    client.get(reverse("web:portfolio"), {"status": "all"})
    customer = day_scores(TODAY).first().customer
    assert day_scores(TODAY).count() == 3
    announce(ImportResult(kind="usage_events", source_name="late.csv", committed=True, created=1,
                          touched_customer_ids={customer.pk}, touched_from=NOW - datetime.timedelta(days=3),
                          touched_to=NOW - datetime.timedelta(days=3)))  # fmt: skip
    assert set(day_scores(TODAY).values_list("customer_id", flat=True)) == set(
        customer.__class__.objects.exclude(pk=customer.pk).values_list("pk", flat=True)
    )
    client.get(reverse("web:portfolio"), {"status": "all"})  # scored again
    assert day_scores(TODAY).filter(customer=customer).count() == 1
