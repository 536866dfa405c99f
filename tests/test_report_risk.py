"""The team report's churn risk summed in the database: the same figures as the risks of each
customer summed in Python, per CSM each customer once (owned and assigned), in a fixed number
of queries whatever the number of CSMs."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from churn.selectors import report_risk, risks_for_customers
from metrics.selectors import Scope
from tests.churn_support import stored_model
from tests.factories import CustomerFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _customers(owner, n, start=0):
    today = timezone.localdate()
    found = []
    for i in range(n):
        customer = CustomerFactory(owner=owner, name=f"{owner.username} {i}")
        SubscriptionFactory(customer=customer, started_at=today - datetime.timedelta(days=40 + 30 * i),
                            mrr=Decimal(100 + 37 * (i + start)))  # fmt: skip
        found.append(customer)
    return found


def _python(ids, day):
    risks = list(risks_for_customers(ids, day).values())
    return len(risks), sum((r.mrr for r in risks), Decimal(0)), _six_places(sum((r.mrr_at_risk for r in risks), Decimal(0)))


def _six_places(value):
    return value.quantize(Decimal("0.000001"))  # SQLite sums floats


def test_report_risk_sums_what_each_customers_risk_says(csm, manager, django_user_model):
    stored_model()
    other = UserFactory(username="otto")
    mine, theirs = _customers(csm, 4), _customers(other, 3, start=5)
    mine[0].assigned_users.add(other, csm)  # owned by carla, assigned to both: once for each
    CustomerFactory(owner=other, name="prospect")  # not paying: no risk
    day = timezone.localdate()
    summary = report_risk(Scope(), day, [csm, other, manager])
    assert (summary["customers"], summary["mrr"], _six_places(summary["mrr_at_risk"])) == _python([c.pk for c in mine + theirs], day)
    per_csm = {user: figures for user, figures in summary["per_csm"]}
    assert (per_csm[csm]["customers"], per_csm[csm]["mrr"], _six_places(per_csm[csm]["mrr_at_risk"])) == _python([c.pk for c in mine], day)
    assert (per_csm[other]["customers"], per_csm[other]["mrr"], _six_places(per_csm[other]["mrr_at_risk"])) == _python(
        [c.pk for c in [mine[0], *theirs]], day
    )
    assert (per_csm[manager]["customers"], per_csm[manager]["mrr"], per_csm[manager]["share"]) == (0, Decimal(0), None)
    assert summary["share"] == summary["mrr_at_risk"] / summary["mrr"]


def test_report_risk_queries_do_not_grow_with_the_csms(csm):
    stored_model()
    day = timezone.localdate()
    users = [UserFactory(username=f"csm{i}") for i in range(2)]
    for user in users:
        _customers(user, 2)
    report_risk(Scope(), day, users)  # stores the day's probabilities
    with CaptureQueriesContext(connection) as few:
        report_risk(Scope(), day, users)
    more = users + [UserFactory(username=f"csm{i}") for i in range(2, 8)]
    for user in more[2:]:
        _customers(user, 2)
    report_risk(Scope(), day, more)
    with CaptureQueriesContext(connection) as many:
        summary = report_risk(Scope(), day, more)
    assert len(many) == len(few)
    assert summary["customers"] == 16 and len(summary["per_csm"]) == 8
