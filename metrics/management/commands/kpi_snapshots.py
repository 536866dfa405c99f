"""Backfill KPI snapshots: python manage.py kpi_snapshots --start 2024-01-01 --end 2025-01-01."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from metrics import grouped, snapshots
from metrics.management.commands._dates import iso_date
from metrics.periods import INTERVALS, Period, split
from metrics.tasks import fan_out


class Command(BaseCommand):
    help = "Compute and store KPI snapshots for every interval of [start, end) and every scope."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=iso_date)
        parser.add_argument("--end", required=True, type=iso_date)
        parser.add_argument("--interval", choices=INTERVALS, default="month")
        parser.add_argument("--no-customers", action="store_true", help="Only company, segment and CSM scopes.")
        parser.add_argument("--queue", action="store_true", help="Send the work to Celery workers instead.")

    def handle(self, *args, start, end, interval, no_customers, queue, **options):
        if start >= end:
            raise CommandError("--end must be after --start")
        periods = split(Period(start, end), interval)
        scopes = snapshots.all_scopes(include_customers=not no_customers)
        if queue:
            tasks = sum(fan_out(p.start, p.end, customers=not no_customers) for p in periods)
            self.stdout.write(f"queued {tasks} tasks for {len(periods)} periods × {len(scopes)} scopes")
            return
        written = 0
        work = [(family, p) for p in periods for family in grouped.FAMILIES]  # one set-based pass each
        for family, period in tqdm(work, unit="family", file=sys.stderr, disable=not sys.stderr.isatty()):
            written += snapshots.snapshot_write_family(family, period, scopes)
        self.stdout.write(f"wrote {written} snapshots for {len(periods)} periods × {len(scopes)} scopes")
