"""manage.py integrations_demo: replay Segment and Stripe traffic into a running csplatform (the demo).

Sets a Segment write key and a Stripe webhook secret when none is set, then sends over
HTTP, as the real senders would: a Segment batch of today's events for a few users of
existing customers (and one call without a customer, to show a refused message), and
signed Stripe webhooks that link a Stripe customer to one of ours and upgrade its
subscription. The Integrations page then shows both connections' traffic, the account
page today's usage, and the revenue pages the expansion.
"""

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Contact, Customer
from integrations import config
from integrations.models import Kind


class Command(BaseCommand):
    help = "Send Segment and Stripe traffic to a running csplatform (default http://127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where csplatform runs.")
        parser.add_argument("--customers", type=int, default=3, help="How many customers get events.")

    def handle(self, *args, url, customers, **options):
        url = url.rstrip("/")
        write_key = config.value(Kind.SEGMENT, "write_key") or config.generate_secret(Kind.SEGMENT, "write_key", "wk_")
        secret = config.value(Kind.STRIPE, "webhook_secret")
        if not secret:
            secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes).decode()
            config.store(Kind.STRIPE, {"webhook_secret": secret})
        chosen = list(Customer.objects.filter(contacts__isnull=False).distinct().order_by("pk")[:customers])
        if not chosen:
            raise CommandError("no customer with contacts: run scripts/demo (or manage.py simulate) first")
        try:
            self.segment(url, write_key, chosen)
            self.stripe(url, secret, chosen[0])
        except requests.ConnectionError:
            raise CommandError(f"nothing answers at {url}: start the demo first (scripts/demo)") from None
        self.stdout.write(f"See {url}/integrations/ (as an admin) for what arrived.")

    def segment(self, url, write_key, customers):
        now = timezone.now()
        batch = []
        for customer in customers:
            for contact in Contact.objects.filter(customer=customer).order_by("pk")[:3]:
                batch.append({"type": "identify", "userId": contact.external_id, "messageId": uuid.uuid4().hex,
                              "context": {"groupId": customer.external_id}, "traits": {"name": contact.name}})  # fmt: skip
                for minute in range(0, 50, 10):
                    batch.append({
                        "type": "track", "userId": contact.external_id, "event": "dashboard_view",
                        "context": {"groupId": customer.external_id}, "messageId": uuid.uuid4().hex,
                        "timestamp": (now - datetime.timedelta(minutes=minute)).isoformat(),
                    })  # fmt: skip
        batch.append({"type": "track", "userId": "visitor-1", "event": "pricing_viewed", "messageId": uuid.uuid4().hex})
        answer = requests.post(
            f"{url}/integrations/segment/v1/batch", json={"batch": batch, "sentAt": now.isoformat()},
            auth=(write_key, ""), timeout=60,
        )  # fmt: skip
        answer.raise_for_status()
        body = answer.json()
        self.stdout.write(
            f"Segment: {len(batch)} calls sent, {body['accepted']} accepted, {len(body['refused'])} refused "
            f"({body['refused'][0]['error'] if body['refused'] else '-'})"
        )

    def stripe(self, url, secret, customer):
        stripe_id = f"cus_demo_{customer.pk}"
        currency = settings.CSPLATFORM_REPORTING_CURRENCY.lower()
        start = int((timezone.now() - datetime.timedelta(days=90)).timestamp())

        def subscription(quantity):
            return {
                "id": f"sub_demo_{customer.pk}", "object": "subscription", "customer": stripe_id, "status": "active",
                "start_date": start, "created": start, "currency": currency, "trial_end": None, "ended_at": None,
                "items": {"object": "list", "data": [{"id": "si_demo", "object": "subscription_item", "quantity": quantity,
                          "price": {"id": "price_demo", "object": "price", "nickname": "Business (Stripe)", "currency": currency,
                                    "unit_amount": 4900, "recurring": {"interval": "month", "interval_count": 1}}}]},
            }  # fmt: skip

        events = [
            ("customer.updated", {"id": stripe_id, "object": "customer", "name": customer.name,
                                  "metadata": {"csplatform_id": customer.external_id}}),  # fmt: skip
            ("customer.subscription.created", subscription(10)),
            ("customer.subscription.updated", subscription(14)),
        ]
        for n, (kind, obj) in enumerate(events):
            event = {"id": f"evt_demo_{uuid.uuid4().hex}", "object": "event", "type": kind,
                     "created": int(time.time()) - (len(events) - n) * 86400 * 30, "data": {"object": obj}}  # fmt: skip
            body = json.dumps(event)
            t = int(time.time())
            signature = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
            answer = requests.post(
                f"{url}/integrations/stripe/webhook", data=body, timeout=60,
                headers={"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={signature}"},
            )  # fmt: skip
            self.stdout.write(f"Stripe {kind}: HTTP {answer.status_code} {answer.json().get('result') or answer.json()}")
