"""manage.py integrations_demo replays Segment and Stripe traffic into a running server (here the live server)."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Contact, Customer, Subscription, UsageEvent
from integrations.models import InboundEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_replay_lands_in_events_subscriptions_and_the_log(live_server, settings):
    settings.CSPLATFORM_REPORTING_CURRENCY = "EUR"
    acme = Customer.objects.create(external_id="ACME", name="Acme")
    for i in range(2):
        Contact.objects.create(customer=acme, external_id=f"u{i}", name=f"User {i}")
    out = io.StringIO()
    call_command("integrations_demo", url=live_server.url, customers=1, stdout=out)
    assert "Segment: 13 calls sent, 12 accepted, 1 refused (cannot tell the customer" in out.getvalue()
    assert UsageEvent.objects.filter(customer=acme).count() == 10
    rows = Subscription.objects.filter(customer=acme).order_by("started_at")
    assert [(r.quantity, r.mrr) for r in rows] == [(10, 490), (14, 686)]  # the upgrade splits the row
    assert InboundEvent.objects.filter(kind="stripe", status="accepted").count() == 3
