"""The KPI catalogue is the one list of KPIs: the engine, API, pages and docs/kpis.md follow it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from metrics import catalogue
from metrics.periods import Period
from metrics.presenters import kpi_json
from metrics.selectors import Scope, compute_kpis
from tests.kpi_example import build_worked_example
from web.kpi_display import format_kpi, kpi_label


def test_docs_kpis_md_is_written_from_the_catalogue():
    call_command("kpi_docs", "--check")
    text = catalogue.markdown({})
    for kpi in catalogue.CATALOGUE:
        assert f'<a id="{kpi.anchor}"></a>' in text and f"`{kpi.key}`" in text


def test_every_input_kind_changes_some_kpi_and_every_kpi_has_inputs():
    assert all(catalogue.keys_changed_by([kind]) for kind in catalogue.INPUTS)
    assert all(kpi.inputs for kpi in catalogue.CATALOGUE)
    assert catalogue.keys_changed_by(["costs"]) == ("customer_retention_cost", "cac", "ltv_to_cac")


@pytest.mark.django_db
def test_the_engine_computes_exactly_the_catalogue_and_the_api_shapes_by_unit():
    build_worked_example()
    results = compute_kpis(Scope(), _feb())
    assert tuple(results) == catalogue.KPI_KEYS
    assert kpi_json("mrr", results["mrr"]) == {"value": 400}
    assert kpi_json("nps", results["nps"])["value"] == 20 and "numerator" not in kpi_json("nps", results["nps"])
    assert kpi_json("arpu", results["arpu"])["numerator"] == 400
    assert format_kpi("logo_churn_rate", results["logo_churn_rate"]).startswith("50")
    assert format_kpi("ltv_to_cac", results["ltv_to_cac"]).endswith("×")


def _feb():
    import datetime

    return Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))


@pytest.mark.django_db
def test_the_definitions_page_lists_every_kpi_and_reports_link_to_it(client, csm):
    client.force_login(csm)
    html = client.get(reverse("web:kpi-definitions")).content.decode()
    for kpi in catalogue.CATALOGUE:
        assert f'id="{kpi.anchor}"' in html and str(kpi.label) in html
    reports = client.get(reverse("web:reports"), {"month": "2024-02"}).content.decode()
    assert reports.count(reverse("web:kpi-definitions") + "#kpi-") == len(catalogue.CATALOGUE) * 1
    assert str(kpi_label("nps")) == "NPS"


@pytest.mark.django_db
def test_the_definitions_page_speaks_german(client, csm):
    client.force_login(csm)
    html = client.get(reverse("web:kpi-definitions"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "KPI-Definitionen" in html and "(Anfangs-MRR + Ausbau − Rückgang − abgewanderter MRR) / Anfangs-MRR." in html
    assert "Niedriger ist besser." in html
