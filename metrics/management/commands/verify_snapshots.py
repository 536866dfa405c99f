"""Prove the stored KPI snapshots: python manage.py verify_snapshots [--start 2024-01-01 --end 2025-01-01]."""

from django.core.management.base import BaseCommand, CommandError

from metrics.management.commands._dates import iso_date
from metrics.verification import verification_run


class Command(BaseCommand):
    help = "Recompute the stored KPI snapshots live and report every drift; exit code 1 on drift."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=iso_date, help="Only periods starting on or after this day.")
        parser.add_argument("--end", type=iso_date, help="Only periods ending on or before this day.")

    def handle(self, *args, start=None, end=None, **options):
        if start and end and start >= end:
            raise CommandError("--end must be after --start")
        run = verification_run(start, end)
        for d in run.drifts:
            self.stdout.write(
                f"DRIFT {d['metric']} {d['scope']} [{d['period_start']}, {d['period_end']}) "
                f"{d['field']}: stored {d['stored']} live {d['live']}"
            )
        self.stdout.write(f"checked {run.checked} snapshots: {run.drift_count} drift(s)")
        if run.drift_count:
            raise CommandError(f"{run.drift_count} stored figure(s) differ from the live value", returncode=1)
