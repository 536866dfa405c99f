"""manage.py stripe_sync: backfill customers and subscriptions from Stripe through its list calls."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from integrations import stripe


class Command(BaseCommand):
    help = "Backfill customers and subscriptions (every status) from Stripe; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only objects created on or after this day (YYYY-MM-DD).")

    def handle(self, *args, since=None, **options):
        start = None
        if since:
            try:
                start = datetime.datetime.combine(datetime.date.fromisoformat(since), datetime.time(), datetime.UTC)
            except ValueError:
                raise CommandError(f"--since {since!r} is not a day (YYYY-MM-DD)") from None
        try:
            counts = stripe.sync(since=start)
        except stripe.Refused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{counts['customers']} customers, {counts['subscriptions']} subscriptions synced; "
            f"{counts['refused']} refused (see the Integrations page)"
        )
