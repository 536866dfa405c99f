"""The optional read replica: report and KPI reads go to it when DATABASE_REPLICA_URL configures one,
everything else (and every write) to the primary; without one nothing changes."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Customer
from lib import db_routing
from lib.db_routing import ReplicaRouter, replica_reads

ROUTER = ReplicaRouter()

@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setitem(settings.DATABASES, "replica", {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}})

def test_reads_inside_replica_reads_go_to_the_replica_writes_never(with_replica):
    assert ROUTER.db_for_read(Customer) is None  # the primary
    with replica_reads():
        assert ROUTER.db_for_read(Customer) == "replica"
        assert ROUTER.db_for_write(Customer) == "default"
    assert ROUTER.db_for_read(Customer) is None
    assert ROUTER.allow_migrate("replica", "accounts") is False and ROUTER.allow_migrate("default", "accounts") is True

def test_without_a_replica_every_read_stays_on_the_primary():
    assert "replica" not in settings.DATABASES
    with replica_reads():
        assert ROUTER.db_for_read(Customer) is None

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["web:reports", "kpis"])
def test_the_team_report_and_the_kpi_api_read_inside_replica_reads(client, admin_user, monkeypatch, url):
    import metrics.selectors

    seen = []
    compute = metrics.selectors.compute_kpis

    def spy(*args, **kwargs):
        seen.append(db_routing.replica_reads_active())
        return compute(*args, **kwargs)

    monkeypatch.setattr("metrics.selectors.compute_kpis", spy)
    monkeypatch.setattr("web.views.compute_kpis", spy, raising=False)
    monkeypatch.setattr("web.selectors.report.compute_kpis", spy, raising=False)
    monkeypatch.setattr("metrics.api.compute_kpis", spy, raising=False)
    client.force_login(admin_user)
    params = {} if url == "web:reports" else {"start": "2024-01-01", "end": "2024-02-01"}
    assert client.get(reverse(url), params).status_code == 200
    assert seen and all(seen)
    assert not db_routing.replica_reads_active()
