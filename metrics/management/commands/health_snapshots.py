"""Backfill daily health scores: python manage.py health_snapshots --start 2025-01-01 --end 2026-01-01."""

import datetime
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from metrics.health_snapshots import health_snapshot_write
from metrics.management.commands._dates import iso_date


class Command(BaseCommand):
    help = "Score every customer with its published health model on each day (or every --every days)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date, help="Exclusive.")
        parser.add_argument("--every", type=int, default=1, help="Days between scored days (default 1).")

    def handle(self, *args, start, end, every, **options):
        if start >= end or every < 1:
            raise CommandError("--end must be after --start and --every at least 1")
        days = [start + datetime.timedelta(days=n) for n in range(0, (end - start).days, every)]
        written = sum(
            health_snapshot_write(day) for day in tqdm(days, unit="day", file=sys.stderr, disable=not sys.stderr.isatty())
        )
        self.stdout.write(f"wrote {written} health scores for {len(days)} days")
