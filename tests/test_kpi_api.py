"""The KPI endpoints: parameters, scopes and access, series, and the rows behind a figure."""

import pytest

from metrics.selectors import KPI_KEYS
from tests.kpi_example import build_worked_example

URL = "/api/v1/kpis/"
FEB = {"start": "2024-02-01", "end": "2024-03-01"}


@pytest.fixture
def example(db, csm):
    customers = build_worked_example()
    customers["A"].owner = csm
    customers["A"].save()
    return customers


@pytest.mark.parametrize(
    "params,field",
    [
        ({"start": "2024-02-01"}, "end"),
        ({"start": "2024-13-01", "end": "2024-03-01"}, "start"),
        ({"start": "2024-03-01", "end": "2024-02-01"}, "end"),
        ({"start": "2024-02-01", "end": "2024-02-01"}, "end"),
        ({**FEB, "keys": "mrr,bogus"}, "keys"),
        ({**FEB, "customer": "abc"}, "customer"),
        ({**FEB, "customer": "1", "segment": "SMB"}, "customer"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(example, client, admin_user, params, field):
    client.force_login(admin_user)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_anonymous_is_401(db, client):
    assert client.get(URL, FEB).status_code == 401


def test_keys_limit_the_answer(example, client, admin_user):
    client.force_login(admin_user)
    body = client.get(URL, {**FEB, "keys": "mrr,nps"}).json()
    assert set(body["kpis"]) == {"mrr", "nps"}
    assert body["kpis"]["nps"] == {"value": 20, "promoters": 5, "passives": 2, "detractors": 3, "responses": 10}


def test_all_keys_for_every_scope(example, client, admin_user, csm):
    client.force_login(admin_user)
    for scope in ({}, {"segment": "SMB"}, {"csm": csm.username}, {"customer": example["A"].pk}):
        response = client.get(URL, {**FEB, **scope})
        assert response.status_code == 200, scope
        assert set(response.json()["kpis"]) == set(KPI_KEYS)


def test_csm_reads_own_customer_and_company(example, client, csm):
    client.force_login(csm)
    assert client.get(URL, {**FEB, "customer": example["A"].pk}).status_code == 200
    assert client.get(URL, {**FEB, "csm": csm.username}).status_code == 200
    assert client.get(URL, FEB).json()["kpis"]["mrr"]["value"] == 400


def test_csm_gets_404_for_others(example, client, outsider, csm):
    client.force_login(outsider)
    assert client.get(URL, {**FEB, "customer": example["A"].pk}).status_code == 404
    assert client.get(URL, {**FEB, "csm": csm.username}).status_code == 404
    assert client.get(URL, {**FEB, "customer": 999999}).status_code == 404


def test_csm_scope_is_the_portfolio(example, client, manager, csm):
    client.force_login(manager)
    body = client.get(URL, {**FEB, "csm": csm.username, "keys": "mrr,mrr_opening,customers"}).json()
    assert body["kpis"] == {"mrr": {"value": 120}, "mrr_opening": {"value": 100}, "customers": {"value": 1}}


def test_series_by_month(example, client, admin_user):
    client.force_login(admin_user)
    body = client.get(URL + "series/", {"start": "2024-01-01", "end": "2024-04-01", "interval": "month", "keys": "mrr"}).json()
    assert [(p["period"]["start"], p["kpis"]["mrr"]["value"]) for p in body["series"]] == [
        ("2024-01-01", 660), ("2024-02-01", 400), ("2024-03-01", 400),
    ]  # fmt: skip


def test_series_weeks_are_clipped_to_the_period(example, client, admin_user):
    client.force_login(admin_user)
    body = client.get(URL + "series/", {**FEB, "interval": "week", "keys": "mau"}).json()
    periods = [(p["period"]["start"], p["period"]["end"]) for p in body["series"]]
    assert periods[0] == ("2024-02-01", "2024-02-05") and periods[-1] == ("2024-02-26", "2024-03-01")
    assert sum(1 for _ in periods) == 5


def test_series_rejects_unknown_interval(example, client, admin_user):
    client.force_login(admin_user)
    response = client.get(URL + "series/", {**FEB, "interval": "fortnight"})
    assert response.status_code == 400 and "interval" in response.json()


def test_rows_behind_logo_churn_are_the_churned_customers(example, client, admin_user):
    client.force_login(admin_user)
    body = client.get(URL + "logo_churn_rate/rows/", FEB).json()
    assert sorted(r["customer"] for r in body["results"]) == ["Customer B", "Customer F"]
    assert body["count"] == 2


def test_rows_behind_mrr_movements(example, client, admin_user):
    client.force_login(admin_user)
    rows = client.get(URL + "mrr_reactivation/rows/", FEB).json()["results"]
    assert [(r["customer"], r["movement_amount"]) for r in rows] == [("Customer E", "80")]


def test_rows_behind_nps_and_fcr(example, client, admin_user):
    client.force_login(admin_user)
    nps = client.get(URL + "nps/rows/", FEB).json()
    assert nps["count"] == 10 and sorted(r["score"] for r in nps["results"])[:3] == [3, 5, 6]
    fcr = client.get(URL + "first_contact_resolution_rate/rows/", FEB).json()
    assert sorted((r["external_id"], r["contacts_count"]) for r in fcr["results"]) == [("T1", 1), ("T2", 3), ("T3", 1)]


@pytest.mark.parametrize("key", KPI_KEYS)
def test_every_key_has_rows(example, client, admin_user, key):
    client.force_login(admin_user)
    response = client.get(URL + f"{key}/rows/", FEB)
    assert response.status_code == 200
    assert "results" in response.json()


def test_rows_of_unknown_key_is_404(example, client, admin_user):
    client.force_login(admin_user)
    assert client.get(URL + "bogus/rows/", FEB).status_code == 404


def test_rows_respect_the_csm_portfolio(example, client, outsider):
    client.force_login(outsider)
    assert client.get(URL + "nps/rows/", {**FEB, "customer": example["A"].pk}).status_code == 404


def test_unknown_parameters_are_400_naming_them(example, client, admin_user):
    client.force_login(admin_user)
    response = client.get(URL, {**FEB, "scope": "company"})
    assert response.status_code == 400 and response.json() == {"scope": ["unknown query parameter"]}
    assert client.get(URL + "nps/rows/", {**FEB, "limit": 5}).status_code == 200
    assert client.get(URL + "series/", {**FEB, "interval": "month", "limit": 5}).status_code == 400
    assert client.get("/api/v1/kpi-snapshots/", {"metrc": "mrr"}).json() == {"metrc": ["unknown query parameter"]}
