"""What stripe_sync and zendesk_sync share: the --since day, refusals as command errors, a one-line summary."""

import datetime

from django.core.management.base import BaseCommand, CommandError


class SyncCommand(BaseCommand):
    """Subclasses implement `sync(start)` (a dict of counts), `summary(counts)`, and name their `refused` error."""

    refused: type[Exception] = Exception
    since_help = "Only what changed on or after this day (YYYY-MM-DD)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help=self.since_help)

    def sync(self, start: datetime.datetime | None) -> dict:
        raise NotImplementedError

    def summary(self, counts: dict) -> str:
        raise NotImplementedError

    def handle(self, *args, since=None, **options):
        start = None
        if since:
            try:
                start = datetime.datetime.combine(datetime.date.fromisoformat(since), datetime.time(), datetime.UTC)
            except ValueError:
                raise CommandError(f"--since {since!r} is not a day (YYYY-MM-DD)") from None
        try:
            counts = self.sync(start)
        except self.refused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.summary(counts))
