"""Celery tasks of importing: running an uploaded CSV import. Arguments are ids, never objects."""

from celery import shared_task

from importing.jobs import import_job_run, import_jobs_reclaim


# The name predates the move out of accounts; kept so jobs queued before an upgrade still run.
@shared_task(name="accounts.import_run")
def import_run(job_id: int) -> None:
    """Run the queued ImportJob `job_id` (metrics refreshes what it wrote when told so).

    Not retried: a failed import is recorded on the job (status `failed`, the error in
    `errors`) and must be looked at; a job that is no longer queued is left alone.
    """
    import_job_run(job_id)


@shared_task(name="importing.jobs_reclaim")
def jobs_reclaim() -> int:
    """Run again the import jobs whose worker died (their lease ran out), or fail them after three tries."""
    requeued = import_jobs_reclaim()
    for job_id in requeued:
        import_run.delay(job_id)
    return len(requeued)
