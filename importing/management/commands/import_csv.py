"""`manage.py import_csv KIND FILE`: import a CSV file of spec/import.md and report every error."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from importing.runner import KINDS
from importing.services import import_and_announce


class Command(BaseCommand):
    help = "Import a CSV file (see spec/import.md). A file with errors changes nothing unless --skip-errors."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file")
        parser.add_argument("--skip-errors", action="store_true", help="import the good rows, report the bad ones")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--ignore-unknown", action="store_true", help="ignore columns the kind does not know")

    def handle(self, *args, kind, file, skip_errors, dry_run, ignore_unknown, **options):
        bar = tqdm(unit=" rows", file=sys.stderr, disable=not sys.stderr.isatty(), desc=kind)

        def progress(rows_done):
            bar.update(rows_done - bar.n)

        try:
            result = import_and_announce(
                kind, file, skip_errors=skip_errors, dry_run=dry_run, ignore_unknown=ignore_unknown, progress=progress
            )
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from exc
        finally:
            bar.close()

        for error in result.errors:
            column = f' column "{error.column}":' if error.column else ""
            self.stderr.write(f"{file}:{error.line}:{column} {error.message}")
        if result.errors_not_listed:
            self.stderr.write(f"{file}: … and {result.errors_not_listed} more errors")
        summary = (
            f"rows read {result.rows_read}, created {result.created}, "
            f"updated {result.updated}, skipped {result.skipped}"
        )
        if dry_run:
            summary += " (dry run, nothing written)"
        self.stdout.write(summary)
        if result.errors and not skip_errors:
            raise CommandError("nothing written: fix the errors above or use --skip-errors")
