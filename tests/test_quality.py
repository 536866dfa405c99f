"""The data-quality gate: each check finds its rows, reports and the API warn about the period until fixed or accepted."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Subscription
from metrics.models import QualityIssue
from metrics.quality import quality_refresh
from tests.factories import CustomerFactory, SubscriptionFactory, UserDayActivityFactory

pytestmark = pytest.mark.django_db
D = datetime.date
MARCH = {"start": "2024-03-01", "end": "2024-04-01"}


def issues():
    return sorted(QualityIssue.objects.values_list("rule", "day", "key"))


def test_each_check_finds_its_rows():
    a = CustomerFactory(name="Acme GmbH", created_on=D(2024, 3, 10))
    b = CustomerFactory(name="ACME gmbh.")
    SubscriptionFactory(customer=a, plan="pro", started_at=D(2024, 1, 1), ended_at=D(2024, 3, 1), mrr=Decimal("100"))
    SubscriptionFactory(customer=a, plan="pro", started_at=D(2024, 2, 15), mrr=Decimal("1000"))  # overlaps; ×10
    SubscriptionFactory(customer=b, plan="pro", started_at=D(2024, 1, 1), ended_at=D(2024, 2, 1), mrr=Decimal("50"))
    SubscriptionFactory(customer=b, plan="pro", started_at=D(2024, 2, 1), mrr=Decimal("60"))  # touches, no overlap
    for i in range(45):  # 10 events a day from 1 February to 15 March, but one on 12 March
        day = D(2024, 2, 1) + datetime.timedelta(days=i)
        UserDayActivityFactory(customer=a, day=day, events=1 if day == D(2024, 3, 12) else 10)
    counts = quality_refresh()
    first, second = Subscription.objects.filter(customer=a).order_by("started_at").values_list("pk", flat=True)
    assert counts == {"low_events": 1, "mrr_jump": 1, "overlapping_subscriptions": 1, "ticket_resolved_before_opened": 0,
                      "events_before_signup": 1, "duplicate_customers": 1}  # fmt: skip
    assert issues() == sorted([
        ("low_events", D(2024, 3, 12), "2024-03-12"),
        ("mrr_jump", D(2024, 3, 1), f"{a.pk}:2024-03-01"),  # 100 on 1 February, 1000 on 1 March
        ("overlapping_subscriptions", D(2024, 2, 15), f"{first}:{second}"),
        ("events_before_signup", D(2024, 2, 1), str(a.pk)),
        ("duplicate_customers", b.created_on, f"{a.pk}, {b.pk}"),  # the earlier sign-up
    ])  # fmt: skip


def test_a_flagged_period_warns_in_the_api_and_the_report_until_accepted(client, admin_user):
    customer = CustomerFactory(name="Solo")
    SubscriptionFactory(customer=customer, plan="pro", started_at=D(2024, 1, 1), mrr=Decimal("10"))
    SubscriptionFactory(customer=customer, plan="pro", started_at=D(2024, 3, 5), mrr=Decimal("10"))
    quality_refresh()
    client.force_login(admin_user)
    body = client.get("/api/v1/kpis/", {**MARCH, "keys": "mrr"}).json()
    assert body["quality"] == {"status": "warning", "issues": 1, "checks": {"overlapping_subscriptions": 1}}
    assert client.get("/api/v1/kpis/", {"start": "2024-02-01", "end": "2024-03-01", "keys": "mrr"}).json()["quality"]["status"] == "ok"
    html = client.get(reverse("web:reports"), {"month": "2024-03"}).content.decode()
    assert 'id="quality-warning"' in html and "Two subscription rows of one customer and plan overlap (1)" in html
    admin_page = client.get(reverse("admin:metrics_qualityissue_changelist")).content.decode()
    assert "overlapping_subscriptions" in admin_page
    client.post(reverse("admin:metrics_qualityissue_changelist"),
                {"action": "accept", "_selected_action": list(QualityIssue.objects.values_list("pk", flat=True))})  # fmt: skip
    assert client.get("/api/v1/kpis/", {**MARCH, "keys": "mrr"}).json()["quality"]["status"] == "ok"
    quality_refresh()  # still there, still accepted
    assert QualityIssue.objects.get().accepted_by == admin_user
    Subscription.objects.filter(started_at=D(2024, 3, 5)).delete()  # fixed: the finding goes
    quality_refresh()
    assert not QualityIssue.objects.exists()
