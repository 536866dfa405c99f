"""Renewals: the renewal date of a subscription (explicit end, else derived from start and billing
period), renewals due in a window with MRR/ARR at stake, committed and expected MRR, the page per role."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Subscription, renewal_on
from metrics import kpis
from metrics.health_versions import default_model
from metrics.models import BacktestRun
from metrics.renewals import forecast, renewals_due
from tests.factories import CustomerFactory, SubscriptionFactory

D = datetime.date


@pytest.mark.parametrize(
    ("started", "ended", "months", "day", "expected"),
    [
        (D(2024, 1, 15), None, 1, D(2024, 6, 10), D(2024, 6, 15)),  # monthly: the next 15th
        (D(2024, 1, 15), None, 1, D(2024, 6, 15), D(2024, 6, 15)),  # on the day itself
        (D(2024, 1, 15), None, 1, D(2024, 6, 16), D(2024, 7, 15)),
        (D(2023, 3, 1), None, 12, D(2024, 6, 10), D(2025, 3, 1)),  # annual: the next anniversary
        (D(2024, 1, 31), None, 1, D(2024, 2, 10), D(2024, 2, 29)),  # a short month: its last day
        (D(2024, 1, 31), None, 1, D(2024, 3, 1), D(2024, 3, 31)),
        (D(2024, 6, 10), None, 12, D(2024, 6, 10), D(2025, 6, 10)),  # started today: a year on
        (D(2024, 1, 1), D(2024, 9, 1), 12, D(2024, 6, 10), D(2024, 9, 1)),  # an end date is the renewal
        (D(2024, 1, 1), D(2024, 5, 1), 12, D(2024, 6, 10), None),  # ended before: no renewal
    ],
)
def test_renewal_date(started, ended, months, day, expected):
    assert renewal_on(started, ended, months, day) == expected


@pytest.fixture
def company(db, csm, outsider):
    """On 2024-06-10: A (carla, monthly 100, renews 06-15), B (carla, annual 400, renews 07-01 with a known
    downgrade to 250), C (otto, annual 1000, renews 2025-03-01: outside 90 days), D (otto, ends 08-20, 60)."""
    a = CustomerFactory(owner=csm, name="A")
    b = CustomerFactory(owner=csm, name="B")
    c = CustomerFactory(owner=outsider, name="C")
    d = CustomerFactory(owner=outsider, name="D")
    SubscriptionFactory(customer=a, started_at=D(2024, 1, 15), mrr=Decimal(100))
    SubscriptionFactory(customer=b, started_at=D(2023, 7, 1), ended_at=D(2024, 7, 1), mrr=Decimal(400), billing_period_months=12)
    SubscriptionFactory(customer=b, plan="Small", started_at=D(2024, 7, 1), mrr=Decimal(250), billing_period_months=12)
    SubscriptionFactory(customer=c, started_at=D(2023, 3, 1), mrr=Decimal(1000), billing_period_months=12)
    SubscriptionFactory(customer=d, started_at=D(2024, 2, 20), ended_at=D(2024, 8, 20), mrr=Decimal(60))
    return a, b, c, d


def test_renewals_due_with_mrr_at_stake_and_committed_mrr(company):
    from accounts.models import Customer

    rows = renewals_due(Customer.objects.all(), D(2024, 6, 10), 90)
    assert [(r.customer.name, r.renewal_on, r.mrr, r.arr, r.committed, r.days_left) for r in rows] == [
        ("A", D(2024, 6, 15), Decimal(100), Decimal(1200), Decimal(100), 5),
        ("B", D(2024, 7, 1), Decimal(400), Decimal(4800), Decimal(250), 21),
        ("D", D(2024, 8, 20), Decimal(60), Decimal(720), Decimal(0), 71),
    ]
    assert [r.customer.name for r in renewals_due(Customer.objects.all(), D(2024, 6, 10), 30)] == ["A", "B"]


def test_expected_mrr_weighs_committed_mrr_by_the_band_churn_rate_of_the_backtest(company):
    from accounts.models import Customer

    assert kpis.expected_renewal_mrr(Decimal(200), Decimal("0.25")).value == Decimal(150)
    assert kpis.expected_renewal_mrr(Decimal(200), None).value is None
    BacktestRun.objects.create(
        model=default_model(), dates=[], result={"bands": {"healthy": {"churn_rate": 0.05}, "neutral": {"churn_rate": 0.2},
                                                           "at_risk": {"churn_rate": 0.5}}},
    )  # fmt: skip
    rows = renewals_due(Customer.objects.all(), D(2024, 6, 10), 90)
    for r in rows:  # no usage at all: every customer's band comes from its score
        rate = {"healthy": Decimal("0.05"), "neutral": Decimal("0.2"), "at_risk": Decimal("0.5")}.get(r.band)
        assert r.churn_rate == rate
        assert r.expected.value == (None if rate is None else r.committed * (1 - rate))
    by_month = forecast(rows, "month")
    assert [(line.key, line.renewals, line.mrr, line.committed) for line in by_month] == [
        (D(2024, 6, 1), 1, Decimal(100), Decimal(100)),
        (D(2024, 7, 1), 1, Decimal(400), Decimal(250)),
        (D(2024, 8, 1), 1, Decimal(60), Decimal(0)),
    ]
    assert [(line.key, line.renewals) for line in forecast(rows, "csm")] == [("carla", 2), ("otto", 1)]


@pytest.mark.django_db
def test_the_renewals_page_shows_a_csm_their_customers_and_a_manager_everyone(client, company, csm, manager):
    with time_machine.travel(datetime.datetime(2024, 6, 10, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(csm)
        page = client.get("/renewals/?days=90").content.decode()
        assert ">A</a>" in page and ">B</a>" in page and ">D</a>" not in page and "Forecast by CSM" not in page
        assert "€500" in page  # MRR at stake within 90 days: 100 + 400
        client.force_login(manager)
        page = client.get("/renewals/?days=90").content.decode()
        assert ">D</a>" in page and "Forecast by CSM" in page and "€560" in page
        page = client.get("/renewals/?days=90&csm=otto").content.decode()
        assert ">D</a>" in page and ">A</a>" not in page
        partial = client.get("/renewals/?days=30", HTTP_HX_REQUEST="true").content.decode()
        assert partial.lstrip().startswith('<div id="renewals-body">')


@pytest.mark.django_db
def test_the_portfolio_renewal_filter_finds_derived_renewals(client, company, csm):
    with time_machine.travel(datetime.datetime(2024, 6, 10, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(csm)
        page = client.get("/?renewal=30").content.decode()
        assert ">A</a>" in page and ">B</a>" in page
        assert Subscription.objects.filter(customer__name="A", ended_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_forecast_month_drills_down_to_its_renewals(client, company, manager):
    with time_machine.travel(datetime.datetime(2024, 6, 10, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(manager)
        page = client.get("/renewals/?days=90&month=2024-07").content.decode()
        listed = page.split('id="renewal-list-title"')[1].split("</table>")[0]
        assert ">B</a>" in listed and ">A</a>" not in listed and ">D</a>" not in listed
        assert "month=2024-08" in page  # every month of the forecast links to its own list


@pytest.mark.django_db
def test_yearly_contracts_only(company):
    from accounts.models import Customer

    rows = renewals_due(Customer.objects.all(), D(2024, 6, 10), 365, min_months=12)
    assert [(r.customer.name, r.renewal_on) for r in rows] == [("B", D(2024, 7, 1)), ("C", D(2025, 3, 1))]
