"""manage.py zendesk_sync: apply the Zendesk tickets changed since the last run (incremental export)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from integrations import zendesk


class Command(BaseCommand):
    help = "Apply Zendesk tickets changed since the last run (or since --since); safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Start here instead of where the last run stopped (YYYY-MM-DD).")

    def handle(self, *args, since=None, **options):
        start = None
        if since:
            try:
                start = datetime.datetime.combine(datetime.date.fromisoformat(since), datetime.time(), datetime.UTC)
            except ValueError:
                raise CommandError(f"--since {since!r} is not a day (YYYY-MM-DD)") from None
        try:
            counts = zendesk.sync(start=start)
        except zendesk.Refused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{counts['applied']} tickets applied, {counts['skipped']} unchanged, "
            f"{counts['refused']} refused (see the Integrations page)"
        )
