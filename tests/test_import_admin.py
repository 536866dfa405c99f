"""The admin upload and the ImportJob runner behind it."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Customer
from importing.jobs import MAX_STORED_ERRORS, import_job_run
from importing.models import ImportJob
from importing.runner import import_file

pytestmark = pytest.mark.django_db

BAD = b"external_id,name,country\nA,Acme,DE\nB,Beta,XXX\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, content, **fields):
    data = {"kind": "customers", "file": SimpleUploadedFile("crm.csv", content, "text/csv"), **fields}
    return client.post(reverse("admin:importing_importjob_add"), data)


def test_admin_upload_shows_every_error_on_the_job_page(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, BAD)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:importing_importjob_change", args=[job.pk])
    assert (job.status, job.original_name, job.created_by, job.rows_failed) == ("failed", "crm.csv", admin_user, 1)
    assert job.errors == [{"line": 3, "column": "country", "message": '"XXX" is not a two-letter country code (e.g. DE, US)'}]
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "<td>3</td><td>country</td><td>&quot;XXX&quot; is not a two-letter country code (e.g. DE, US)</td>" in html
    assert "Nothing written: the file has 1 error." in html
    assert not Customer.objects.exists()


def test_admin_upload_with_skip_errors_imports_the_good_rows(client, admin_user):
    client.force_login(admin_user)
    upload(client, BAD, skip_errors="on")
    job = ImportJob.objects.get()
    assert (job.status, job.rows_done, job.rows_created, job.rows_failed, job.finished_at is not None) == ("done", 2, 1, 1, True)
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["A"]


def test_the_upload_form_renders_and_needs_a_file(client, admin_user):
    client.force_login(admin_user)
    assert "Import CSV" in client.get(reverse("admin:importing_importjob_upload")).content.decode()
    response = client.post(reverse("admin:importing_importjob_add"), {"kind": "customers"})
    assert response.status_code == 200 and not ImportJob.objects.exists()


def test_a_csm_cannot_upload(client, csm):
    client.force_login(csm)
    response = upload(client, BAD)
    assert response.status_code == 302 and "login" in response["Location"]
    assert not ImportJob.objects.exists()


def make_job(content, **fields):
    job = ImportJob(kind="customers", original_name="crm.csv", **fields)
    job.file.save("crm.csv", ContentFile(content))
    return job


def test_a_job_runs_once_with_counts_and_progress():
    job = make_job(b"external_id,name\nA,Acme\nB,Beta\n")
    seen = []

    def runner(kind, source, **options):
        result = import_file(kind, source, **options)
        seen.append(options["source_name"])
        return result

    assert import_job_run(job.pk, runner).created == 2
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_done, job.rows_created, job.errors) == ("done", 2, 2, 2, [])
    assert import_job_run(job.pk, runner) is None  # not queued any more
    assert seen == ["crm.csv"]


def test_a_job_stores_the_first_errors_and_counts_the_rest():
    rows = b"".join(b"C%d,Name,XXX\n" % i for i in range(MAX_STORED_ERRORS + 5))
    job = make_job(b"external_id,name,country\n" + rows)
    import_job_run(job.pk, import_file)
    job.refresh_from_db()
    assert job.status == "failed" and len(job.errors) == MAX_STORED_ERRORS + 1
    assert job.errors[-1] == {"line": None, "column": "", "message": "… and 5 more errors"}


def test_a_crashing_runner_marks_the_job_failed():
    job = make_job(b"external_id,name\nA,Acme\n")

    def runner(kind, source, **options):
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        import_job_run(job.pk, runner)
    job.refresh_from_db()
    assert job.status == "failed" and job.errors[0]["message"] == "the import stopped unexpectedly: disk on fire"
