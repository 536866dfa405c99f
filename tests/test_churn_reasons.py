"""Churn and contraction reasons: the editable list, the import column, the API field, the account form,
and lost MRR by reason and month worked by hand."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import ChurnReason, Subscription
from metrics import kpis
from metrics.losses import losses_by_month, month_losses
from metrics.periods import Period
from metrics.selectors import Scope
from tests.api_support import client_for
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.import_support import messages, run

pytestmark = pytest.mark.django_db
D = datetime.date


def reason(code):
    return ChurnReason.objects.get(code=code)


def test_the_list_starts_with_default_reasons_in_both_languages():
    price = reason("price")
    assert (price.label, price.label_for("de"), price.label_for("en")) == ("Price or budget", "Preis oder Budget", "Price or budget")
    assert ChurnReason.objects.filter(active=True).count() == 8


def test_lost_mrr_is_summed_per_reason():
    lost = {1: Decimal(100), 2: Decimal(40), 3: Decimal(7)}
    assert kpis.lost_mrr_by_reason(lost, {1: "price", 2: "price"}) == {"price": Decimal(140), None: Decimal(7)}
    assert kpis.lost_mrr_by_reason({}, {}) == {}


def test_import_reads_the_reason_by_code_or_label_and_refuses_an_unknown_one(tmp_path):
    CustomerFactory(external_id="A")
    result = run(
        "subscriptions", tmp_path,
        """
        customer_external_id,external_id,plan,started_at,ended_at,mrr,end_reason,end_note
        A,s1,Pro,2024-01-01,2024-06-01,100,competitor,Went to Rival Inc.
        A,s2,Pro,2024-06-01,2024-09-01,80,Price or budget,
        A,s3,Pro,2024-09-01,,60,bored,
        """,
    )  # fmt: skip
    assert messages(result) == ['4/end_reason: "bored" is not a churn reason; known codes: business_closed, competitor, downsizing, low_adoption, missing_features, other, price, support']
    result = run(
        "subscriptions", tmp_path,
        """
        customer_external_id,external_id,plan,started_at,ended_at,mrr,end_reason,end_note
        A,s1,Pro,2024-01-01,2024-06-01,100,competitor,Went to Rival Inc.
        A,s2,Pro,2024-06-01,2024-09-01,80,Price or budget,
        """,
    )  # fmt: skip
    assert result.errors == []
    s1, s2 = Subscription.objects.get(external_id="s1"), Subscription.objects.get(external_id="s2")
    assert (s1.end_reason.code, s1.end_note, s2.end_reason.code, s2.end_note) == ("competitor", "Went to Rival Inc.", "price", "")


def test_reimport_without_the_columns_keeps_the_reason(tmp_path):
    c = CustomerFactory(external_id="A")
    SubscriptionFactory(customer=c, external_id="s1", started_at=D(2024, 1, 1), ended_at=D(2024, 6, 1),
                        end_reason=reason("support"), end_note="slow answers")  # fmt: skip
    result = run("subscriptions", tmp_path, """
        customer_external_id,external_id,plan,started_at,ended_at,mrr
        A,s1,Pro,2024-01-01,2024-06-01,100
        """)  # fmt: skip
    assert (result.updated, result.errors) == (1, [])
    s1 = Subscription.objects.get(external_id="s1")
    assert (s1.end_reason.code, s1.end_note) == ("support", "slow answers")


def test_api_writes_and_reads_the_reason(admin_user):
    c = CustomerFactory(external_id="A")
    api = client_for(admin_user)
    body = {"customer": c.pk, "external_id": "s9", "plan": "Pro", "started_at": "2024-01-01", "ended_at": "2024-03-01",
            "mrr": "50", "end_reason": "low_adoption", "end_note": "never logged in"}  # fmt: skip
    response = api.post("/api/v1/subscriptions/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["end_reason"], response.json()["end_note"]) == ("low_adoption", "never logged in")
    bad = api.patch(f"/api/v1/subscriptions/{response.json()['id']}/", {"end_reason": "nope"}, format="json")
    assert (bad.status_code, list(bad.json())) == (400, ["end_reason"])
    codes = [r["code"] for r in api.get("/api/v1/churn-reasons/").json()]
    assert codes[:3] == ["price", "missing_features", "competitor"]


def test_the_owner_records_a_reason_on_the_account_page_and_others_cannot(client, csm, outsider):
    c = CustomerFactory(owner=csm)
    s = SubscriptionFactory(customer=c, started_at=D(2024, 1, 1), ended_at=D(2024, 6, 1))
    url = f"/customers/{c.pk}/subscriptions/{s.pk}/reason/"
    client.force_login(outsider)
    assert client.post(url, {f"sub{s.pk}-end_reason": reason("price").pk}).status_code == 404
    client.force_login(csm)
    response = client.post(url, {f"sub{s.pk}-end_reason": reason("price").pk, f"sub{s.pk}-end_note": "too dear"},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200 and b"Saved." in response.content and b"<html" not in response.content
    s.refresh_from_db()
    assert (s.end_reason.code, s.end_note) == ("price", "too dear")
    running = SubscriptionFactory(customer=c, plan="Other", started_at=D(2024, 1, 1))
    assert client.get(f"/customers/{c.pk}/subscriptions/{running.pk}/reason/").status_code == 404
    page = client.get(f"/customers/{c.pk}/").content.decode()
    assert "Price or budget" in page and "Add reason" not in page.split("Price or budget")[0].split("subs-title")[-1]


def test_lost_mrr_by_reason_and_month_worked_by_hand():
    """March 2024: A churns (100, competitor), B contracts 80 → 50 (30, price), C churns (20, no reason),
    D expands (not a loss). April: nothing lost."""
    a, b, c, d = (CustomerFactory(name=n) for n in "ABCD")
    SubscriptionFactory(customer=a, started_at=D(2024, 1, 1), ended_at=D(2024, 3, 10), mrr=100, end_reason=reason("competitor"))
    SubscriptionFactory(customer=b, started_at=D(2024, 1, 1), ended_at=D(2024, 3, 15), mrr=80, end_reason=reason("price"))
    SubscriptionFactory(customer=b, plan="Small", started_at=D(2024, 3, 15), mrr=50)
    SubscriptionFactory(customer=c, started_at=D(2024, 1, 1), ended_at=D(2024, 4, 1), mrr=20)
    SubscriptionFactory(customer=d, started_at=D(2024, 1, 1), mrr=10)
    SubscriptionFactory(customer=d, plan="Add-on", started_at=D(2024, 3, 5), mrr=5)
    march = month_losses(Scope(), Period(D(2024, 3, 1), D(2024, 4, 1)))
    assert march.by_reason == {reason("competitor").pk: Decimal(100), reason("price").pk: Decimal(30), None: Decimal(20)}
    assert march.total == Decimal(150)
    assert sorted((r["customer"], r["movement"], r["amount"]) for r in march.customers) == [
        ("A", "churn", Decimal(100)), ("B", "contraction", Decimal(30)), ("C", "churn", Decimal(20))]  # fmt: skip
    months = losses_by_month(Scope(), D(2024, 4, 20), 2)
    assert [m.period.start for m in months] == [D(2024, 3, 1), D(2024, 4, 1)]
    assert [m.total for m in months] == [Decimal(150), Decimal(0)]


def test_churn_reasons_page_lists_a_month_only_with_visible_customers(client, csm, manager):
    mine, theirs = CustomerFactory(owner=csm, name="Mine"), CustomerFactory(name="Theirs")
    for c in (mine, theirs):
        SubscriptionFactory(customer=c, started_at=D(2024, 1, 1), ended_at=D(2024, 3, 10), mrr=100, end_reason=reason("price"))
    client.force_login(csm)
    page = client.get("/churn-reasons/?scope=company&until=2024-04&months=6&month=2024-03").content.decode()
    assert "€200" in page and "Mine" in page and "Theirs" not in page and "1 customer of another portfolio" in page
    client.force_login(manager)
    page = client.get("/churn-reasons/?scope=company&until=2024-04&months=6&month=2024-03").content.decode()
    assert "Mine" in page and "Theirs" in page


def test_a_csms_month_lists_only_her_losses_and_counts_the_others(client, csm, outsider):
    """The policy filters the month's customers in the query (the scope seen by the user): carla lists Mine
    and Shared (otto's, assigned to her); Theirs is counted as not listed; the totals stay company-wide."""
    mine, shared = CustomerFactory(owner=csm, name="Mine"), CustomerFactory(owner=outsider, name="Shared")
    theirs = CustomerFactory(owner=outsider, name="Theirs")
    shared.assigned_users.add(csm)
    for c, mrr in ((mine, 100), (shared, 40), (theirs, 60)):
        SubscriptionFactory(customer=c, started_at=D(2024, 1, 1), ended_at=D(2024, 3, 10), mrr=mrr, end_reason=reason("price"))
    march = Period(D(2024, 3, 1), D(2024, 4, 1))
    assert [r["customer"] for r in month_losses(Scope().seen_by(csm), march).customers] == ["Mine", "Shared"]
    assert [r["customer"] for r in month_losses(Scope().seen_by(outsider), march).customers] == ["Shared", "Theirs"]
    client.force_login(csm)
    response = client.get("/churn-reasons/?scope=company&until=2024-04&months=6&month=2024-03")
    page, detail = response.content.decode(), response.context["detail"]
    assert [(r["customer"], r["amount"]) for r in response.context["detail_rows"]] == [("Mine", 100), ("Shared", 40)]
    assert response.context["hidden"] == 1 and len(detail.customers) == 3 == len(response.context["detail_rows"]) + 1
    assert detail.total == Decimal(200) and "€200" in page  # the figure is the company's
    assert "Mine" in page and "Shared" in page and "Theirs" not in page and "1 customer of another portfolio" in page
