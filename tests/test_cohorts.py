"""Cohort retention worked by hand: logo and revenue retention by sign-up month, future cells empty,
the drill-down per cell, and the page per role."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from metrics import kpis
from metrics.cohorts import cohort_customers, cohort_table
from metrics.selectors import Scope
from tests.factories import CustomerFactory, SubscriptionFactory

D = datetime.date
TODAY = D(2024, 5, 10)


def test_cohort_retention_formula():
    logo, revenue = kpis.cohort_retention({1: Decimal(100), 2: Decimal(200)}, {1: Decimal(150), 3: Decimal(999)})
    assert (logo.value, logo.numerator, logo.denominator) == (Decimal("0.5"), 1, 2)
    assert (revenue.value, revenue.numerator, revenue.denominator) == (Decimal("0.5"), 150, 300)
    empty_logo, empty_revenue = kpis.cohort_retention({}, {1: Decimal(5)})
    assert empty_logo.value is None and empty_logo.reason == "no customer signed up in this month"
    assert empty_revenue.value is None


@pytest.fixture
def company(db, csm, outsider):
    """January 2024: X (carla, 100 from 01-10, 150 from 04-01) and Y (otto, 200 from 01-20, churned 03-15).
    February: Z (carla, a trial from 01-05, paying 50 from 02-03). March: nobody."""
    x = CustomerFactory(name="X", owner=csm)
    y = CustomerFactory(name="Y", owner=outsider)
    z = CustomerFactory(name="Z", owner=csm)
    SubscriptionFactory(customer=x, started_at=D(2024, 1, 10), ended_at=D(2024, 4, 1), mrr=Decimal(100))
    SubscriptionFactory(customer=x, plan="Big", started_at=D(2024, 4, 1), mrr=Decimal(150))
    SubscriptionFactory(customer=y, started_at=D(2024, 1, 20), ended_at=D(2024, 3, 15), mrr=Decimal(200))
    SubscriptionFactory(customer=z, plan="Trial", started_at=D(2024, 1, 5), ended_at=D(2024, 2, 3), mrr=Decimal(0), is_trial=True)
    SubscriptionFactory(customer=z, started_at=D(2024, 2, 3), mrr=Decimal(50))
    return x, y, z


def _values(cohort, metric):
    return [None if cell is None else getattr(cell, metric).value for cell in cohort.cells]


def test_cohort_table_worked_example(company):
    jan, feb, mar = cohort_table(Scope(), D(2024, 1, 1), D(2024, 3, 1), TODAY)
    assert (jan.month, jan.size, jan.mrr, feb.size, feb.mrr, mar.size) == (D(2024, 1, 1), 2, Decimal(300), 1, Decimal(50), 0)
    assert _values(jan, "logo") == [1, 1, Decimal("0.5")]  # Y churned in March: gone at the start of April
    assert _values(jan, "revenue") == [1, 1, Decimal("0.5")]  # X's 150 of 300
    assert _values(feb, "logo") == [1, 1, 1] and _values(feb, "revenue") == [1, 1, 1]
    assert [c.day for c in feb.cells] == [D(2024, 3, 1), D(2024, 4, 1), D(2024, 5, 1)]
    assert mar.cells[2] is None  # 1 June is still to come: no data yet, never 0 %
    assert mar.cells[0].logo.value is None  # nobody signed up


def test_a_csm_scope_holds_their_customers_only(company):
    jan, feb = cohort_table(Scope(csm="carla"), D(2024, 1, 1), D(2024, 2, 1), TODAY)
    assert (jan.size, _values(jan, "revenue"), feb.size) == (1, [1, 1], 1)


def test_the_customers_behind_a_cell(company):
    rows = cohort_customers(Scope(), D(2024, 1, 1), 2, TODAY)
    assert [(r["customer"], r["start_mrr"], r["mrr"], r["paying"]) for r in rows] == [
        ("X", Decimal(100), Decimal(150), True), ("Y", Decimal(200), Decimal(0), False)]  # fmt: skip
    future = cohort_customers(Scope(), D(2024, 3, 1), 2, TODAY)
    assert future == []


@pytest.mark.django_db
def test_the_cohort_page_and_its_drill_down(client, company, csm, manager):
    with time_machine.travel(datetime.datetime(2024, 5, 10, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(manager)
        page = client.get("/cohorts/?scope=company&until=2024-03&months=6").content.decode()
        assert "Jan 2024" in page and "50 %" in page and "no data yet" in page
        cell = client.get("/cohorts/customers/?scope=company&cohort=2024-01&age=2", HTTP_HX_REQUEST="true").content.decode()
        assert ">X</a>" in cell and ">Y</a>" in cell and "churned" in cell and "<html" not in cell
        client.force_login(csm)
        cell = client.get("/cohorts/customers/?scope=company&cohort=2024-01&age=2").content.decode()
        assert ">X</a>" in cell and ">Y</a>" not in cell and "1 customer of another portfolio is not listed." in cell
        assert client.get("/cohorts/customers/?cohort=2024-13&age=1").status_code == 404
        assert client.get("/cohorts/?scope=csm:otto").status_code == 200  # not hers: the page falls back to her own


@pytest.mark.django_db
def test_a_csms_cell_lists_only_her_customers_and_counts_the_others(client, company, csm, outsider):
    """The policy filters the cell's rows in the query (the scope seen by the user): carla lists X (hers) and
    W (otto's, assigned to her); Y and V (otto's) are counted as not listed, so listed + hidden = the cohort size."""
    w, v = CustomerFactory(name="W", owner=outsider), CustomerFactory(name="V", owner=outsider)
    w.assigned_users.add(csm)
    for c in (w, v):
        SubscriptionFactory(customer=c, started_at=D(2024, 1, 15), mrr=Decimal(10))
    assert [r["customer"] for r in cohort_customers(Scope().seen_by(csm), D(2024, 1, 1), 2, TODAY)] == ["W", "X"]
    assert [r["customer"] for r in cohort_customers(Scope().seen_by(outsider), D(2024, 1, 1), 2, TODAY)] == ["V", "W", "Y"]
    with time_machine.travel(datetime.datetime(2024, 5, 10, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(csm)
        response = client.get("/cohorts/?scope=company&until=2024-03&months=6&cohort=2024-01&age=2")
        assert response.context["scope"] == Scope()
        jan = next(c for c in response.context["table"] if c.month == D(2024, 1, 1))
        cell = response.context["cell"]
        assert [r["customer"] for r in cell["rows"]] == ["W", "X"] and cell["hidden"] == 2
        assert jan.size == 4 == len(cell["rows"]) + cell["hidden"]  # the table counts every customer
        fragment = client.get("/cohorts/customers/?scope=company&cohort=2024-01&age=2", HTTP_HX_REQUEST="true")
        html = fragment.content.decode()
        assert ">W</a>" in html and ">X</a>" in html and ">Y</a>" not in html and ">V</a>" not in html
        assert "2 customers of other portfolios are not listed." in html  # 2 listed + 2 = the 4 of the table


def test_all_cohorts_together_weigh_each_by_its_size(company):
    from metrics.cohorts import pooled

    table = cohort_table(Scope(), D(2024, 1, 1), D(2024, 3, 1), TODAY)
    logo = pooled(table, "logo")
    # age 2: January 1 of 2 still paying, February 1 of 1, March not reached yet: 2 of 3
    assert [(k.numerator, k.denominator) for k in logo] == [(3, 3), (3, 3), (2, 3)]
    assert pooled(table, "revenue")[2].value == Decimal(200) / Decimal(350)  # (150 + 50) / (300 + 50)
    assert kpis.pooled_ratio([], "none").value is None
