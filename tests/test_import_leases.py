"""An import job whose worker dies is not left "running" forever: its lease runs out, it is
queued again and run (nothing was written: an import is one transaction), or failed with the
reason after three lost workers; admin and the API show the attempts and the reason."""

import datetime

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Customer
from importing.jobs import MAX_ATTEMPTS, import_job_run, import_jobs_reclaim
from importing.models import ImportJob
from importing.tasks import jobs_reclaim
from tests.api_support import API, client_for, tmp_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_media")]


def job_of(text="external_id,name\nC1,One\nC2,Two\n"):
    job = ImportJob.objects.create(kind="customers", original_name="c.csv")
    job.file.save("c.csv", ContentFile(text.encode()))
    return job


def lose_the_worker(job):
    """What a worker killed mid-import leaves: the job claimed, running, nothing written."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    claimed = ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, lease_until=timezone.now() + datetime.timedelta(minutes=30),
        attempts=job.attempts + 1,
    )  # fmt: skip
    assert claimed
    job.refresh_from_db()


def test_a_running_job_keeps_its_lease_until_it_runs_out(settings):
    job = job_of()
    lose_the_worker(job)
    assert import_jobs_reclaim() == []
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=settings.CSPLATFORM_IMPORT_LEASE_SECONDS + 60)):
        assert import_jobs_reclaim() == [job.pk]
    job.refresh_from_db()
    assert job.status == "queued" and job.lease_until is None
    assert "the worker running the import stopped (attempt 1 of 3)" in job.errors[0]["message"]


def test_a_reclaimed_job_runs_again_and_imports_every_row_once(settings, admin_user):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    job = job_of()
    lose_the_worker(job)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        assert jobs_reclaim() == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_created, job.lease_until) == ("done", 2, 2, None)
    assert Customer.objects.count() == 2
    body = client_for(admin_user).get(f"{API}imports/{job.pk}/").json()
    assert (body["status"], body["attempts"]) == ("done", 2)


def test_a_job_that_lost_its_worker_three_times_fails_with_the_reason(admin_user):
    job = job_of()
    for _ in range(MAX_ATTEMPTS):
        lose_the_worker(job)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        assert import_jobs_reclaim() == []
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    message = "the worker running the import stopped 3 times; upload the file again"
    assert job.errors == [{"line": None, "column": "", "message": message}]
    assert client_for(admin_user).get(f"{API}imports/{job.pk}/").json()["errors"][0]["message"] == message
    assert not Customer.objects.exists()


def test_a_finished_job_holds_no_lease():
    job = job_of()
    import_job_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_until) == ("done", 1, None)
    assert import_jobs_reclaim() == []
