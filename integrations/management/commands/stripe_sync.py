"""manage.py stripe_sync: backfill customers and subscriptions from Stripe through its list calls."""

from integrations import stripe
from integrations.management.sync import SyncCommand


class Command(SyncCommand):
    help = "Backfill customers and subscriptions (every status) from Stripe; safe to run again."
    since_help = "Only objects created on or after this day (YYYY-MM-DD)."
    refused = stripe.Refused

    def sync(self, start):
        return stripe.sync(since=start)

    def summary(self, counts):
        return (
            f"{counts['customers']} customers, {counts['subscriptions']} subscriptions synced; "
            f"{counts['refused']} refused (see the Integrations page)"
        )
