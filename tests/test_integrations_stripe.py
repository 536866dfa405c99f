"""Stripe: webhooks verified by the stripe library, subscriptions as our rows, and stripe_sync through its list calls.

The webhook tests sign bodies as Stripe does (HMAC-SHA256 of "{t}.{body}"); the sync and
invoice tests point the stripe library's API base at a local server with Stripe-shaped
fixtures.
"""

import datetime
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Customer, Subscription
from integrations.models import InboundEvent
from tests.integrations_support import FixtureServer

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_secret_0123456789"
URL = "/integrations/stripe/webhook"


def ts(day: str) -> int:
    return int(datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.UTC).timestamp())


@pytest.fixture(autouse=True)
def stripe_settings(monkeypatch, settings):
    monkeypatch.setenv("INTEGRATION_STRIPE_WEBHOOK_SECRET", SECRET)
    settings.CSPLATFORM_REPORTING_CURRENCY = "EUR"
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "0.9"}


def signed(payload: dict, secret=SECRET, at=None) -> tuple[str, str]:
    body = json.dumps(payload)
    t = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return body, f"t={t},v1={signature}"


def deliver(client, payload, **kwargs):
    body, header = signed(payload, **kwargs)
    return client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def subscription(sub_id="sub_1", *, quantity=5, unit_amount=12000, interval="year", **fields):
    return {
        "id": sub_id, "object": "subscription", "customer": "cus_1", "status": "active", "currency": "usd",
        "start_date": ts("2024-01-01"), "created": ts("2024-01-01"),
        "trial_start": ts("2024-01-01"), "trial_end": ts("2024-01-15"), "ended_at": None, "cancel_at": None,
        "items": {"object": "list", "data": [{
            "id": "si_1", "object": "subscription_item", "quantity": quantity,
            "price": {"id": "price_team", "object": "price", "nickname": "Team", "currency": "usd",
                      "unit_amount": unit_amount, "recurring": {"interval": interval, "interval_count": 1,
                                                                "usage_type": "licensed"}},
        }]},
        "discount": {"object": "discount", "coupon": {"id": "ten", "object": "coupon", "percent_off": 10,
                                                      "duration": "forever"}, "end": None},
        **fields,
    }  # fmt: skip


def event(event_id, kind, obj, day):
    return {"id": event_id, "object": "event", "type": kind, "created": ts(day), "data": {"object": obj}}


def rows():
    return [
        (s.external_id, s.plan, s.started_at.isoformat(), s.ended_at and s.ended_at.isoformat(), s.quantity,
         s.is_trial, s.currency, s.original_mrr, s.mrr, s.billing_period_months)
        for s in Subscription.objects.order_by("started_at", "external_id")
    ]  # fmt: skip


def test_a_subscription_s_life_becomes_our_rows_whatever_the_order_and_repeats(client):
    customer = {"id": "cus_1", "object": "customer", "name": "Acme Ltd", "email": "billing@acme.test",
                "created": ts("2023-12-20"), "metadata": {}}  # fmt: skip
    created = event("evt_1", "customer.subscription.created", subscription(), "2024-01-01")
    grown = event("evt_2", "customer.subscription.updated", subscription(quantity=8), "2024-03-01")
    # The subscription arrives before its customer: the customer is made from its id, then named.
    assert deliver(client, created).json() == {"success": True, "result": "subscription applied"}
    assert deliver(client, event("evt_0", "customer.created", customer, "2023-12-20")).status_code == 200
    assert Customer.objects.get(external_id="cus_1").name == "Acme Ltd"
    assert deliver(client, grown).json()["result"] == "subscription applied"
    # 5 seats × $120 a year = $50 a month, 10 % off = $45, at 0.9 = €40.50; 8 seats: $72, €64.80.
    expected = [
        ("sub_1:trial", "Team", "2024-01-01", "2024-01-15", 5, True, "USD", Decimal("45"), Decimal("40.5"), 12),
        ("sub_1:2024-01-15", "Team", "2024-01-15", "2024-03-01", 5, False, "USD", Decimal("45"), Decimal("40.5"), 12),
        ("sub_1:2024-03-01", "Team", "2024-03-01", None, 8, False, "USD", Decimal("72"), Decimal("64.8"), 12),
    ]
    assert rows() == expected
    # A repeated delivery and a late copy of an older event change nothing.
    assert deliver(client, grown).json()["result"] == "a repeated delivery: handled already"
    late = event("evt_1b", "customer.subscription.updated", subscription(quantity=2), "2024-02-01")
    assert deliver(client, late).json()["result"] == "older than the state applied already"
    assert rows() == expected
    # Cancelled: the running row ends.
    ended = subscription(quantity=8, status="canceled", ended_at=ts("2024-06-10"))
    assert deliver(client, event("evt_3", "customer.subscription.deleted", ended, "2024-06-10")).status_code == 200
    assert rows()[-1][:4] == ("sub_1:2024-03-01", "Team", "2024-03-01", "2024-06-10")
    assert Subscription.objects.count() == 3


def test_monthly_weekly_amount_discounts_and_metered_items_are_normalised_per_month(client, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "1"}
    weekly = subscription("sub_w", quantity=1, unit_amount=1000, interval="week", trial_end=None, discount=None)
    amount_off = subscription("sub_a", quantity=3, unit_amount=3000, interval="month", trial_end=None,
                              discount={"coupon": {"amount_off": 1500, "currency": "usd", "duration": "forever"}})  # fmt: skip
    once = subscription("sub_o", quantity=1, unit_amount=3000, interval="month", trial_end=None,
                        discount={"coupon": {"percent_off": 50, "duration": "once"}})  # fmt: skip
    metered = subscription("sub_m", trial_end=None, discount=None)
    metered["items"]["data"][0]["price"]["recurring"]["usage_type"] = "metered"
    for i, sub in enumerate([weekly, amount_off, once, metered]):
        assert deliver(client, event(f"evt_{i}", "customer.subscription.created", sub, "2024-01-01")).status_code == 200
    mrr = {s.external_id.split(":")[0]: s.original_mrr for s in Subscription.objects.all()}
    assert mrr == {
        "sub_w": Decimal("43.333333"),  # $10 a week × 52 / 12
        "sub_a": Decimal("75"),  # 3 × $30, less $15 a month
        "sub_o": Decimal("30"),  # a coupon applied once is not recurring revenue
        "sub_m": Decimal("0"),  # billed on usage
    }
    assert Subscription.objects.get(external_id__startswith="sub_m").is_trial is False


def test_forged_unsigned_and_stale_signatures_are_refused_and_logged(client):
    payload = event("evt_x", "customer.created", {"id": "cus_9", "object": "customer", "name": "X"}, "2024-01-01")
    forged = deliver(client, payload, secret="whsec_someone_else")
    assert forged.status_code == 401
    assert forged.json()["message"].startswith("the Stripe-Signature header does not match: No signatures found")
    stale = deliver(client, payload, at=int(time.time()) - 3600)  # Stripe's tolerance is 5 minutes
    assert (stale.status_code, "Timestamp outside the tolerance zone" in stale.json()["message"]) == (401, True)
    unsigned = client.post(URL, data=json.dumps(payload), content_type="application/json")
    assert unsigned.status_code == 401
    assert not Customer.objects.exists()
    assert InboundEvent.objects.filter(kind="stripe", status="refused").count() == 3


def test_an_event_that_cannot_be_stored_is_kept_for_replay_and_the_others_still_apply(client, settings):
    settings.CSPLATFORM_EXCHANGE_RATES = {}  # no rate for USD
    bad = event("evt_bad", "customer.subscription.created", subscription("sub_bad"), "2024-01-01")
    answer = deliver(client, bad)
    assert answer.status_code == 200  # Stripe would retry a failure; it is kept for replay instead
    assert answer.json()["message"].startswith("currency: no exchange rate from USD to EUR")
    kept = InboundEvent.objects.get(external_id="evt_bad")
    assert (kept.status, kept.payload["data"]["object"]["id"]) == ("refused", "sub_bad")
    good = {"id": "cus_2", "object": "customer", "name": "Globex", "metadata": {"csplatform_id": "GLX"}}
    assert deliver(client, event("evt_ok", "customer.updated", good, "2024-01-02")).json()["success"] is True
    assert Customer.objects.get(external_id="GLX").name == "Globex"
    # Its subscriptions name the Stripe id and land on our customer GLX.
    settings.CSPLATFORM_EXCHANGE_RATES = {"USD": "1"}
    sub = subscription("sub_glx", trial_end=None) | {"customer": "cus_2"}
    deliver(client, event("evt_sub", "customer.subscription.created", sub, "2024-01-03"))
    assert Subscription.objects.get(external_id="sub_glx:2024-01-01").customer.external_id == "GLX"
    assert not Customer.objects.filter(external_id="cus_2").exists()


def page_of(items, request, url):
    """Stripe's list shape, paged by `limit` and `starting_after` as the library asks."""
    limit = int(request.query.get("limit", ["10"])[0])
    after = request.query.get("starting_after", [None])[0]
    start = next((i + 1 for i, item in enumerate(items) if item["id"] == after), 0)
    data = items[start : start + limit]
    return 200, {"object": "list", "url": url, "has_more": start + limit < len(items), "data": data}


def test_stripe_sync_backfills_through_the_list_calls(monkeypatch):
    customers = [{"id": f"cus_{i}", "object": "customer", "name": f"Customer {i}", "metadata": {}} for i in range(150)]
    subs = [subscription(f"sub_{i}", trial_end=None, discount=None) | {"customer": f"cus_{i}"} for i in range(120)]
    subs.append(subscription("sub_old", trial_end=None, status="canceled", ended_at=ts("2024-02-01")))
    with FixtureServer() as server:
        server.route("GET", "/v1/customers", lambda r: page_of(customers, r, "/v1/customers"))
        server.route("GET", "/v1/subscriptions", lambda r: page_of(subs, r, "/v1/subscriptions"))
        monkeypatch.setenv("INTEGRATION_STRIPE_API_KEY", "sk_test_sync")
        monkeypatch.setenv("INTEGRATION_STRIPE_API_BASE", server.url)
        call_command("stripe_sync")
        call_command("stripe_sync")  # again: nothing doubles
    assert Customer.objects.count() == 150
    assert Subscription.objects.count() == 121
    assert Subscription.objects.get(external_id="sub_old:2024-01-01").ended_at == datetime.date(2024, 2, 1)
    listed = [r for r in server.requests if r.path == "/v1/subscriptions"]
    assert {r.query["status"][0] for r in listed} == {"all"}
    assert len(listed) == 4  # two pages of 100, twice
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer sk_test_sync"}


def test_an_invoice_event_refreshes_its_subscription_through_the_api(client, monkeypatch):
    with FixtureServer() as server:
        server.route("GET", "/v1/subscriptions/sub_9", subscription("sub_9", quantity=2, trial_end=None))
        monkeypatch.setenv("INTEGRATION_STRIPE_API_KEY", "sk_test_inv")
        monkeypatch.setenv("INTEGRATION_STRIPE_API_BASE", server.url)
        invoice = {"id": "in_1", "object": "invoice", "parent": {"subscription_details": {"subscription": "sub_9"}}}
        answer = deliver(client, event("evt_inv", "invoice.paid", invoice, "2024-05-01"))
    assert answer.json() == {"success": True, "result": "subscription refreshed"}
    assert Subscription.objects.get(external_id="sub_9:2024-01-01").quantity == 2


def test_the_sync_command_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("INTEGRATION_STRIPE_API_KEY", raising=False)
    with pytest.raises(Exception, match="no Stripe API key is set"):
        call_command("stripe_sync")
