"""Hostile input: markup in every free-text field stays text everywhere, CSV cells cannot run formulas,
and oversized uploads, fields and bodies are refused with a clear message.
"""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Customer, Note, Task
from importing.models import ImportJob
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    NoteFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
)
from web.csvexport import safe_cell, safe_filename

pytestmark = pytest.mark.django_db

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)", "<img src=x")  # what must never reach a page unescaped
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
FIELDS = ("customer", "segment", "contact", "note", "task", "details", "comment", "ticket", "plan")


def hostile(field: str) -> str:
    return f"{field}:{XSS}"


@pytest.fixture
def hostile_customer(csm):
    """One customer of the CSM with markup in every free-text field, all within this month."""
    now = timezone.now()
    today = timezone.localdate()
    customer = CustomerFactory(name=hostile("customer"), segment=hostile("segment"), owner=csm)
    contact = ContactFactory(customer=customer, name=hostile("contact"))
    SubscriptionFactory(customer=customer, plan=hostile("plan"), mrr=Decimal(100), started_at=today.replace(day=1) - datetime.timedelta(days=40), ended_at=None)  # fmt: skip
    NoteFactory(customer=customer, author=csm, body=hostile("note"), created_at=now)
    TaskFactory(customer=customer, assignee=csm, title=hostile("task"), details=hostile("details"), due_on=today, created_at=now)  # fmt: skip
    SurveyResponseFactory(customer=customer, contact=contact, score=3, comment=hostile("comment"), responded_at=now)
    TicketFactory(customer=customer, contact=contact, subject=hostile("ticket"), opened_at=now - datetime.timedelta(hours=2),
                  resolved_at=now - datetime.timedelta(hours=1), contacts_count=1)  # fmt: skip
    return customer


def this_month() -> dict:
    start = timezone.localdate().replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return {"start": start.isoformat(), "end": end.isoformat(), "scope": "company"}


def assert_escaped(html: str, *fields: str) -> None:
    """No raw markup from the fixture on the page; each named field is there, escaped."""
    for raw in RAW:
        assert raw not in html
    for field in fields:
        assert f"{field}:{ESCAPED}" in html, field


# --- Pages ------------------------------------------------------------------------------


def test_the_portfolio_escapes_names_and_segments(client, csm, hostile_customer):
    client.force_login(csm)
    html = client.get(reverse("web:portfolio")).content.decode()
    assert_escaped(html, "customer", "segment")
    htmx = client.get(reverse("web:portfolio"), {"q": "customer"}, HTTP_HX_REQUEST="true").content.decode()
    assert_escaped(htmx, "customer")


def test_the_account_page_escapes_every_field(client, csm, hostile_customer):
    client.force_login(csm)
    html = client.get(reverse("web:account", args=[hostile_customer.pk])).content.decode()
    assert_escaped(html, "customer", "segment", "note", "task", "plan", "ticket", "comment")
    timeline = client.get(reverse("web:account-timeline", args=[hostile_customer.pk]), HTTP_HX_REQUEST="true")
    timeline = timeline.content.decode()
    assert_escaped(timeline, "note")
    tasks = client.get(reverse("web:tasks")).content.decode()
    assert_escaped(tasks, "customer", "task")


@pytest.mark.parametrize("key", ["customers", "mrr", "nps", "first_contact_resolution_rate", "feature_adoption"])
def test_the_report_drilldown_escapes_row_values(client, manager, hostile_customer, key):
    client.force_login(manager)
    response = client.get(reverse("web:report-rows", args=[key]), this_month())
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_the_drilldown_shows_names_and_comments_escaped(client, manager, hostile_customer):
    client.force_login(manager)
    html = client.get(reverse("web:report-rows", args=["nps"]), this_month()).content.decode()
    assert_escaped(html, "comment", "customer")


def test_the_reports_page_escapes_segment_scopes(client, manager, hostile_customer):
    client.force_login(manager)
    html = client.get(reverse("web:reports")).content.decode()
    assert_escaped(html, "segment")


def test_the_survey_results_page_escapes_comments(client, manager, hostile_customer):
    client.force_login(manager)
    response = client.get(reverse("surveys:results"))
    assert response.status_code == 200
    assert_escaped(response.content.decode(), "comment")


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        ("customer", ["customer", "segment"]),
        ("contact", ["contact", "customer"]),
        ("subscription", ["plan", "customer"]),
        ("note", ["customer"]),
        ("task", ["task", "customer"]),
        ("ticket", ["ticket", "customer"]),
    ],
)
def test_admin_changelists_and_change_pages_escape_every_field(client, admin_user, hostile_customer, model, fields):
    from django.apps import apps

    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:accounts_{model}_changelist"))
    assert changelist.status_code == 200
    assert_escaped(changelist.content.decode(), *fields)
    obj = apps.get_model("accounts", model).objects.first()
    change = client.get(reverse(f"admin:accounts_{model}_change", args=[obj.pk]))
    assert change.status_code == 200
    for raw in RAW:
        assert raw not in change.content.decode()


def test_the_admin_history_page_escapes_names(client, admin_user, hostile_customer):
    client.force_login(admin_user)
    html = client.get(reverse("admin:accounts_customer_history", args=[hostile_customer.pk])).content.decode()
    assert_escaped(html, "customer")


def test_the_api_returns_markup_as_json_text(csm, hostile_customer):
    api = APIClient()
    api.force_authenticate(csm)
    response = api.get(f"/api/v1/customers/{hostile_customer.pk}/")
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == hostile("customer")


# --- CSV exports: formula injection -----------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://evil")'])
def test_a_text_cell_that_starts_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(("value", "cell"), [(None, ""), (-5, -5), (Decimal("-1.5"), Decimal("-1.5")), ("Acme", "Acme"), ("a=b", "a=b")])
def test_numbers_and_plain_text_stay_as_they_are(value, cell):
    assert safe_cell(value) == cell


def _csv_cells(response) -> list[str]:
    assert response["Content-Type"].startswith("text/csv")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


def test_the_portfolio_csv_neutralises_formulas_in_every_text_column(client, csm):
    CustomerFactory(name="=cmd|' /C calc'!A0", segment="-2+3", external_id="@ext", owner=csm)
    client.force_login(csm)
    cells = _csv_cells(client.get(reverse("web:portfolio-export")))
    assert "'=cmd|' /C calc'!A0" in cells and "'-2+3" in cells and "'@ext" in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)


def test_the_report_csv_of_a_hostile_segment_keeps_the_header_and_the_cells_safe(client, manager):
    CustomerFactory(segment='=1+1"\r\nX-Evil: 1')
    client.force_login(manager)
    response = client.get(reverse("web:report-export"), {"scope": 'segment:=1+1"\r\nX-Evil: 1'})
    assert response.status_code == 200
    assert "X-Evil" not in response.headers
    assert response["Content-Disposition"].startswith('attachment; filename="kpis-') and "\r" not in response["Content-Disposition"]
    cells = _csv_cells(response)
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert 'segment:=1+1"\r\nX-Evil: 1' in cells  # the scope column, as text


def test_a_file_name_keeps_only_safe_characters():
    assert safe_filename('kpis-segment-a"b\r\nc/../d.csv') == "kpis-segment-a-b-c-..-d.csv"


# --- Oversized input --------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_admin_upload_refuses_a_file_over_the_limit_with_a_message(client, admin_user, settings, media):
    settings.CSPLATFORM_MAX_IMPORT_BYTES = 100
    client.force_login(admin_user)
    upload = SimpleUploadedFile("big.csv", b"external_id,name\n" + b"A,Alpha\n" * 20, "text/csv")
    response = client.post(reverse("admin:importing_importjob_add"), {"kind": "customers", "file": upload})
    assert response.status_code == 200
    assert "The file is 177 bytes; an import takes at most 100 bytes." in response.content.decode().replace("\xa0", " ")
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


def test_the_api_import_refuses_a_file_over_the_limit_with_a_400(admin_user, settings, media):
    settings.CSPLATFORM_MAX_IMPORT_BYTES = 100
    api = APIClient()
    api.force_authenticate(admin_user)
    upload = SimpleUploadedFile("big.csv", b"external_id,name\n" + b"A,Alpha\n" * 20, "text/csv")
    response = api.post("/api/v1/imports/", {"kind": "customers", "file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"] == ["The file is 177\xa0bytes; an import takes at most 100\xa0bytes. Split it into smaller files."]
    assert not ImportJob.objects.exists()


def test_a_file_at_the_limit_is_accepted(admin_user, settings, media):
    content = b"external_id,name\nA,Alpha\n"
    settings.CSPLATFORM_MAX_IMPORT_BYTES = len(content)
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post("/api/v1/imports/", {"kind": "customers", "file": SimpleUploadedFile("ok.csv", content)}, format="multipart")
    assert response.status_code == 202


def test_a_note_or_task_over_its_max_length_is_a_form_error(client, csm, hostile_customer):
    client.force_login(csm)
    note = client.post(reverse("web:note-create", args=[hostile_customer.pk]), {"body": "x" * 10_001})
    assert note.status_code in (200, 400)
    assert "at most 10000 characters" in note.content.decode()
    task = client.post(reverse("web:task-create", args=[hostile_customer.pk]),
                       {"title": "t" * 201, "details": "d", "due_on": "2031-01-01"})  # fmt: skip
    assert task.status_code in (200, 400)
    assert "at most 200 characters" in task.content.decode()
    assert Note.objects.count() == 1 and Task.objects.count() == 1  # the fixture's


def test_an_api_json_body_over_the_limit_is_a_413_with_a_json_message(admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api = APIClient()
    api.force_authenticate(admin_user)
    body = json.dumps({"external_id": "big", "name": "x" * 2000})
    response = api.post("/api/v1/customers/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 1000 bytes; send the data in smaller requests"}
    assert not Customer.objects.filter(external_id="big").exists()


def test_an_api_text_field_over_its_max_length_is_a_400(admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post("/api/v1/customers/", {"external_id": "long", "name": "x" * 201}, format="json")
    assert response.status_code == 400 and "name" in response.json()
