"""Audit history (django-simple-history) of customers, subscriptions and health models."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Customer, Subscription
from metrics import health_versions
from metrics.models import BacktestRun, HealthModel
from tests.factories import CustomerFactory, SubscriptionFactory
from tests.import_support import run

pytestmark = pytest.mark.django_db


def test_an_admin_edit_records_who_changed_what(client, admin_user):
    customer = CustomerFactory(name="Acme", segment="SMB", country="", created_on=None)
    client.force_login(admin_user)
    change = reverse("admin:accounts_customer_change", args=[customer.pk])
    form = {
        "name": "Acme Corp", "external_id": customer.external_id, "segment": "Enterprise", "country": "",
        "contacts-TOTAL_FORMS": 0, "contacts-INITIAL_FORMS": 0,
        "subscriptions-TOTAL_FORMS": 0, "subscriptions-INITIAL_FORMS": 0,
    }  # fmt: skip
    response = client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = customer.history.latest()
    assert (latest.history_type, latest.name, latest.history_user) == ("~", "Acme Corp", admin_user)
    delta = latest.diff_against(latest.prev_record)
    assert {c.field: (c.old, c.new) for c in delta.changes} == {
        "name": ("Acme", "Acme Corp"),
        "segment": ("SMB", "Enterprise"),
    }
    page = client.get(reverse("admin:accounts_customer_history", args=[customer.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Acme Corp" in html and admin_user.username in html
    assert "Revert" not in html  # the trail is read-only


def test_subscription_changes_and_deletions_are_kept():
    sub = SubscriptionFactory(mrr=Decimal("100"))
    sub.mrr = Decimal("150")
    sub.save()
    pk = sub.pk
    sub.delete()
    history = Subscription.history.filter(id=pk).order_by("history_date")
    assert [(h.history_type, h.mrr) for h in history] == [("+", Decimal("100")), ("~", Decimal("150")), ("-", Decimal("150"))]


def test_an_import_records_created_and_updated_rows_with_the_file_name(tmp_path):
    CustomerFactory(external_id="A", name="Old name", segment="SMB")
    result = run("customers", tmp_path, "external_id,name\nA,New name\nB,Beta\n")
    assert (result.created, result.updated) == (1, 1)
    a, b = Customer.objects.get(external_id="A"), Customer.objects.get(external_id="B")
    assert [(h.history_type, h.name, h.segment) for h in a.history.order_by("history_date")] == [
        ("+", "Old name", "SMB"), ("~", "New name", "SMB")  # the stored row, not just the file's columns
    ]  # fmt: skip
    assert a.history.latest().history_change_reason == "import data.csv"
    assert [(h.history_type, h.name) for h in b.history.all()] == [("+", "Beta")]
    run("subscriptions", tmp_path, "customer_external_id,plan,started_at,mrr,currency\nB,pro,2024-01-01,200,EUR\n")
    sub = Subscription.objects.get()
    assert [(h.history_type, h.mrr, h.history_change_reason) for h in sub.history.all()] == [
        ("+", Decimal("200"), "import data.csv")
    ]


def test_a_dry_run_or_refused_file_records_nothing(tmp_path):
    run("customers", tmp_path, "external_id,name\nA,Alpha\n", dry_run=True)
    run("customers", tmp_path, "external_id,name,country\nA,Alpha,XXX\n")
    assert not Customer.history.exists()


def test_the_admin_upload_records_the_uploading_user(client, admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(admin_user)
    upload = SimpleUploadedFile("crm.csv", b"external_id,name\nA,Alpha\n", "text/csv")
    client.post(reverse("admin:importing_importjob_add"), {"kind": "customers", "file": upload})
    latest = Customer.objects.get().history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "import crm.csv")


def test_publishing_a_health_model_records_the_retired_and_the_published_version(admin_user):
    v1 = health_versions.default_model()
    v2 = health_versions.model_version_create(weights=health_versions.definition_of(v1).weights, based_on=v1)
    BacktestRun.objects.create(model=v2, dates=[], result={})
    health_versions.model_publish(model=v2, user=admin_user)
    assert [h.status for h in HealthModel.history.filter(id=v1.pk).order_by("history_date")] == ["published", "retired"]
    assert [h.status for h in HealthModel.history.filter(id=v2.pk).order_by("history_date")] == ["draft", "published"]
