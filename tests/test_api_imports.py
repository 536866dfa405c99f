"""CSV imports through the REST API: upload, the Celery task runs the job, the job reports line-exact errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Customer
from importing.models import ImportJob
from importing.tasks import import_run
from tests.api_support import API, client_for, fresh_throttles, tmp_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles", "tmp_media")]

GOOD = b"external_id,name,segment,country\nA1,Alpha,SMB,DE\nB2,Beta,Enterprise,us\n"
BAD = b"external_id,name,country\nA1,Alpha,DE\nB2,,Germany\nC3,Gamma,FR\n"


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


def upload(client, content, capture, kind="customers", **options):
    """POST a file to /imports/ and run what was queued on commit (the eager Celery task)."""
    file = SimpleUploadedFile("customers.csv", content, content_type="text/csv")
    with capture(execute=True):
        response = client.post(f"{API}imports/", {"kind": kind, "file": file, **options}, format="multipart")
    return response


def test_a_good_file_is_imported_by_the_task(admin, django_capture_on_commit_callbacks):
    response = upload(admin, GOOD, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    assert {"id", "status", "kind"} <= set(response.json())
    assert response.json()["kind"] == "customers"
    job = admin.get(f"{API}imports/{response.json()['id']}/").json()
    assert job["status"] == "done"
    assert (job["rows_total"], job["rows_done"], job["rows_failed"], job["created"], job["updated"]) == (2, 2, 0, 2, 0)
    assert job["errors"] == []
    assert Customer.objects.get(external_id="B2").country == "US"


def test_a_bad_file_fails_with_line_exact_errors_and_changes_nothing(admin, django_capture_on_commit_callbacks):
    response = upload(admin, BAD, django_capture_on_commit_callbacks)
    job = admin.get(f"{API}imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["rows_failed"] == 1
    assert job["errors"] == [
        {"line": 3, "column": "name", "message": "is empty; a value is required"},
        {"line": 3, "column": "country", "message": '"Germany" is not a two-letter country code (e.g. DE, US)'},
    ]
    assert not Customer.objects.exists()


def test_skip_errors_keeps_the_good_rows(admin, django_capture_on_commit_callbacks):
    response = upload(admin, BAD, django_capture_on_commit_callbacks, skip_errors="true")
    job = admin.get(f"{API}imports/{response.json()['id']}/").json()
    assert job["status"] == "done"
    assert job["created"] == 2 and job["rows_failed"] == 1
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"A1", "C3"}


def test_a_dry_run_writes_nothing(admin, django_capture_on_commit_callbacks):
    response = upload(admin, GOOD, django_capture_on_commit_callbacks, dry_run="true")
    job = admin.get(f"{API}imports/{response.json()['id']}/").json()
    assert job["status"] == "done" and job["created"] == 2
    assert not Customer.objects.exists()


def test_the_job_is_queued_until_the_request_commits(admin, django_capture_on_commit_callbacks):
    file = SimpleUploadedFile("customers.csv", GOOD)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post(f"{API}imports/", {"kind": "customers", "file": file}, format="multipart")
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [({"kind": "planets"}, "kind"), ({"kind": "customers"}, "file"), ({"kind": "customers", "dry_run": "perhaps"}, "dry_run")],
)
def test_a_bad_upload_is_a_400_naming_the_field(admin, data, field):
    if field != "file":
        data = {**data, "file": SimpleUploadedFile("x.csv", GOOD)}
    response = admin.post(f"{API}imports/", data, format="multipart")
    assert response.status_code == 400
    assert field in response.json()


def test_running_a_job_twice_imports_it_once(admin_user, django_capture_on_commit_callbacks):
    job = ImportJob.objects.create(kind="customers", file=SimpleUploadedFile("c.csv", GOOD), created_by=admin_user)
    import_run(job.pk)
    import_run(job.pk)  # no longer queued: left alone
    job.refresh_from_db()
    assert job.status == "done" and job.rows_created == 2
    assert Customer.objects.count() == 2


def test_a_missing_job_is_a_404(admin):
    assert admin.get(f"{API}imports/424242/").status_code == 404
