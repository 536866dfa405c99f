"""Running an ImportJob record: claim it, import its file, store progress, counts and errors.

The admin upload runs a job at once; the REST API runs it from a Celery task. The import
itself is `import_and_announce`, which tells the apps above (metrics) what it wrote.
"""

import datetime
import logging
import os

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F
from django.utils import timezone

from importing.base import ImportResult
from importing.models import ImportJob
from importing.services import import_and_announce

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 1_000
MAX_ATTEMPTS = 3  # workers lost by one job before it is failed


def import_job_run(job_id: int, runner=import_and_announce) -> ImportResult | None:
    """Run the queued ImportJob `job_id` with `runner(kind, source, **options)`; None if it was not queued.

    The job ends `done`, or `failed` when a file with errors was refused (without
    skip_errors) or the import raised (the exception propagates after it is recorded).
    """
    jobs = ImportJob.objects.filter(pk=job_id)
    claimed = jobs.filter(status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, lease_until=_lease(), attempts=F("attempts") + 1
    )
    if not claimed:
        log.warning("import job %s is missing or not queued; not running it", job_id)
        return None
    job = jobs.get()
    jobs.update(rows_total=_count_rows(job.file))
    progress = _Progress(job_id)
    try:
        with job.file.open("rb") as source:
            result = runner(
                job.kind,
                source,
                skip_errors=job.skip_errors,
                dry_run=job.dry_run,
                progress=progress,
                source_name=job.original_name or os.path.basename(job.file.name),
            )
    except Exception as exc:
        message = f"the import stopped unexpectedly: {exc}"
        jobs.update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), lease_until=None,
                    errors=[_entry(None, "", message)])  # fmt: skip
        raise
    finally:
        progress.close()
    refused = bool(result.errors) and not job.skip_errors
    jobs.update(
        status=ImportJob.Status.FAILED if refused else ImportJob.Status.DONE,
        rows_total=result.rows_read,
        rows_done=result.rows_read,
        rows_failed=result.skipped,
        rows_created=result.created,
        rows_updated=result.updated,
        errors=_stored_errors(result),
        finished_at=timezone.now(),
        lease_until=None,
    )
    return result


def _lease():
    return timezone.now() + datetime.timedelta(seconds=settings.CSPLATFORM_IMPORT_LEASE_SECONDS)


def import_jobs_reclaim(run=None) -> list[int]:
    """Queue again the running jobs whose lease ran out (their worker died: nothing was written),
    or fail them with the reason after MAX_ATTEMPTS; return the ids queued again, to be run."""
    requeued = []
    stale = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, lease_until__lt=timezone.now())
    for job in stale.only("pk", "attempts"):
        lost = _entry(None, "", f"the worker running the import stopped (attempt {job.attempts} of {MAX_ATTEMPTS})")
        still_stale = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, lease_until__lt=timezone.now())
        if job.attempts >= MAX_ATTEMPTS:
            failed = _entry(None, "", f"the worker running the import stopped {job.attempts} times; upload the file again")
            still_stale.update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), lease_until=None,
                               errors=[failed])  # fmt: skip
        elif still_stale.update(status=ImportJob.Status.QUEUED, lease_until=None, rows_done=0, errors=[lost]):
            requeued.append(job.pk)
    return requeued


def _entry(line, column, message):
    return {"line": line, "column": column, "message": message}


def _stored_errors(result: ImportResult) -> list[dict]:
    """Return the first MAX_STORED_ERRORS errors, plus one entry counting the rest."""
    stored = [_entry(e.line, e.column, e.message) for e in result.errors[:MAX_STORED_ERRORS]]
    hidden = result.error_count - len(stored)
    if hidden:
        stored.append(_entry(None, "", f"… and {hidden} more errors"))
    return stored


def _count_rows(file) -> int:
    """Estimate the data rows from the line count (a quoted cell spanning lines counts twice)."""
    lines, last = 0, b"\n"
    with file.open("rb") as source:
        while block := source.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines + (last != b"\n") - 1, 0)


class _Progress:
    """Write rows_done as the import goes, and renew the job's lease.

    The import runs in one transaction, so progress goes through a second connection
    that commits each update. SQLite allows one writer at a time, so there progress is
    only stored at the end.
    """

    def __init__(self, job_id):
        self.job_id = job_id
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None
        self.table = connection.ops.quote_name(ImportJob._meta.db_table)

    def __call__(self, rows_done):
        if self.connection is not None:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {self.table} SET rows_done = %s, lease_until = %s WHERE id = %s",
                    [rows_done, _lease(), self.job_id],
                )

    def close(self):
        if self.connection is not None:
            self.connection.close()
