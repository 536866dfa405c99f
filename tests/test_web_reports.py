"""Team reports: the worked example's figures on the page, drill-down, CSV, who sees what."""

import csv
import datetime
import re
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Customer
from tests.kpi_example import build_worked_example
from web import charts
from web.formatting import money, percent
from web.kpi_display import format_kpi
from web.templatetags.kpi_tags import kpi_change

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
FEBRUARY = {"start": "2024-02-01", "end": "2024-03-01", "scope": "company"}


@pytest.fixture(autouse=True)
def frozen_clock():
    # In March 2024 the default period is February: the worked example's month.
    with time_machine.travel(datetime.datetime(2024, 3, 20, 9, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def example(csm):
    customers = build_worked_example()
    Customer.objects.filter(pk__in=[customers["A"].pk, customers["B"].pk]).update(owner=csm)
    return customers


def test_report_defaults_to_last_full_month_and_shows_every_kpi_with_the_previous_period(client, manager, example):
    client.force_login(manager)
    response = client.get(reverse("web:reports"))
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.period.start, report.period.end) == (datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
    assert (report.previous.start, report.previous.end) == (datetime.date(2024, 1, 1), datetime.date(2024, 2, 1))
    html = response.content.decode()
    for figure in ("€400", "€660", "50.0 %", "40.9 %", "37.9 %", "€2,250", "€1,500", "0.13 ×", "66.7 %", "4.80",
                   "12 min 48 s", "Net revenue retention", "Onboarding funnel", "CSM comparison"):  # fmt: skip
        assert figure in html, figure
    assert report.current["nps"].value == Decimal(20)


def test_report_has_twelve_months_of_charts_each_with_a_table(client, manager, example):
    client.force_login(manager)
    context = client.get(reverse("web:reports"), FEBRUARY).context
    chart_ids = [c["id"] for c in context["charts"]]
    assert chart_ids == ["mrr-movements", "logo-churn", "customer-retention", "revenue-retention", "nps", "csat-ces",
                         "dau-mau"]  # fmt: skip
    movements = context["charts"][0]
    assert len(movements["rows"]) == 12 and "<svg" in movements["svg"]
    assert movements["rows"][-1][0] == datetime.date(2024, 2, 1)
    assert movements["rows"][-1][1][:2] == ["€50", "€80"]  # new, reactivation in February


def test_report_htmx_request_gets_the_report_body(client, manager, example):
    client.force_login(manager)
    html = client.get(reverse("web:reports"), FEBRUARY, **HX).content.decode()
    assert html.lstrip().startswith('<div id="report-body"') and "<html" not in html


def test_report_by_month_picker_and_scope(client, manager, example):
    client.force_login(manager)
    response = client.get(reverse("web:reports"), {"month": "2024-02", "scope": "segment:Enterprise"})
    report = response.context["report"]
    assert report.period.start == datetime.date(2024, 2, 1) and report.scope.segment == "Enterprise"
    assert report.current["mrr"].value == Decimal(150)  # only C
    assert report.comparison is None


def test_report_rejects_a_bad_period(client, manager, example):
    client.force_login(manager)
    response = client.get(reverse("web:reports"), {"start": "2024-03-01", "end": "2024-02-01", "scope": "company"})
    assert response.status_code == 400 and "The end must be after the start" in response.content.decode()


def test_csm_may_see_their_portfolio_report_but_not_another_csms(client, csm, outsider, example):
    client.force_login(csm)
    response = client.get(reverse("web:reports"))
    assert response.context["report"].scope.csm == "carla"
    assert response.context["report"].current["mrr_opening"].value == Decimal(300)  # A 100 + B 200
    assert response.context["report"].comparison is None
    assert client.get(reverse("web:reports"), {**FEBRUARY, "scope": "csm:otto"}).status_code == 400


def test_csm_comparison_has_one_row_per_csm(client, manager, csm, example):
    client.force_login(manager)
    comparison = client.get(reverse("web:reports"), FEBRUARY).context["report"].comparison
    assert [u.username for u, _ in comparison] == ["carla"]
    assert comparison[0][1]["logo_churn_rate"].value == Decimal("0.5")  # B of A, B


def test_csm_comparison_equals_each_csms_own_report_with_shared_customers(client, manager, csm, outsider, example):
    from metrics.periods import Period
    from metrics.selectors import Scope, compute_kpis

    example["C"].assigned_users.add(csm)  # carla: A, B owned and C assigned
    Customer.objects.filter(pk__in=[example["D"].pk, example["E"].pk]).update(owner=outsider)
    example["A"].assigned_users.add(outsider)  # otto: D, E owned and A assigned
    client.force_login(manager)
    comparison = client.get(reverse("web:reports"), FEBRUARY).context["report"].comparison
    assert [u.username for u, _ in comparison] == ["carla", "otto"]
    february = Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
    for user, figures in comparison:
        alone = compute_kpis(Scope(csm=user.username), february, list(figures))
        assert {k: (f.value, f.numerator, f.denominator) for k, f in figures.items()} == {
            k: (f.value, f.numerator, f.denominator) for k, f in alone.items()
        }


def test_drilldown_partial_lists_the_churned_customers(client, manager, example):
    client.force_login(manager)
    url = reverse("web:report-rows", args=["logo_churn_rate"])
    html = client.get(url, FEBRUARY, **HX).content.decode()
    assert html.lstrip().startswith('<div class="rows-table"')
    assert "Customer B" in html and "Customer F" in html and "Customer A" not in html
    full = client.get(url, FEBRUARY).content.decode()
    assert "<html" in full and "Customer B" in full


def test_drilldown_of_costs_and_responses(client, manager, example):
    client.force_login(manager)
    html = client.get(reverse("web:report-rows", args=["cac"]), FEBRUARY).content.decode()
    assert "Customer D" in html and "sales" in html and "€600" in html
    html = client.get(reverse("web:report-rows", args=["nps"]), FEBRUARY).content.decode()
    assert html.count("<tr>") == 1 + 10  # header and ten February answers


def test_drilldown_hides_rows_of_other_csms_customers_from_a_csm(client, csm, example):
    client.force_login(csm)
    response = client.get(reverse("web:report-rows", args=["logo_churn_rate"]), FEBRUARY)
    html = response.content.decode()
    assert "Customer B" in html and "Customer F" not in html
    assert response.context["total"] == 1 and response.context["restricted"]


def test_drilldown_rejects_unknown_keys_and_foreign_scopes(client, csm, outsider, example):
    client.force_login(outsider)
    assert client.get(reverse("web:report-rows", args=["bogus"]), FEBRUARY).status_code == 404
    url = reverse("web:report-rows", args=["mrr"])
    assert client.get(url, {**FEBRUARY, "scope": "csm:carla"}).status_code == 404
    assert client.get(url, {**FEBRUARY, "scope": f"customer:{example['A'].pk}"}).status_code == 404


def test_report_csv_has_every_kpi(client, manager, example):
    from metrics.selectors import KPI_KEYS

    client.force_login(manager)
    response = client.get(reverse("web:report-export"), FEBRUARY)
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kpi"] for r in rows] == list(KPI_KEYS)
    by_key = {r["kpi"]: r for r in rows}
    assert Decimal(by_key["mrr"]["value"]) == 400 and Decimal(by_key["logo_churn_rate"]["value"]) == Decimal("0.5")


def test_reports_need_login(client):
    assert client.get(reverse("web:reports"))["Location"].startswith(reverse("login"))


# --- Formatting and charts (no database needed, but cheap) --------------------------------


def test_formatting_of_money_percent_and_kpis():
    assert money(Decimal("12345.6")) == "€12,346"
    assert money(Decimal("-5")) == "−€5"
    assert percent(Decimal("0.409091")) == "40.9 %"
    assert format_kpi("average_session_duration", Decimal(768)) == "12 min 48 s"
    assert format_kpi("nps", None) == "—"
    assert "good" in kpi_change("logo_churn_rate", Decimal("0.1"), Decimal("0.2"))
    assert "bad" in kpi_change("mrr", Decimal("100"), Decimal("200"))


def test_line_chart_leaves_gaps_for_undefined_values():
    svg = charts.line_chart("NPS", ["Jan", "Feb", "Mar", "Apr"], [charts.Series("NPS", [10, None, 20, 30])])
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 1
    assert 'role="img"' in svg and "<title>NPS</title>" in svg and "style=" not in svg


def test_stacked_bar_chart_draws_gains_up_and_losses_down():
    svg = charts.stacked_bar_chart(
        "MRR", ["Jan", "Feb"], [charts.Series("New", [100, 0], "s1")], [charts.Series("Churn", [0, 50], "s5")]
    )
    assert svg.count("<rect") == 2 and 'class="bar s5"' in svg


def test_charts_without_data_say_so():
    assert "No data" in charts.line_chart("X", ["Jan"], [charts.Series("X", [None])])


def test_retention_has_its_own_zoomed_axis_and_gross_retention_is_dashed():
    from web.charts import Series, line_chart

    svg = line_chart("Retention", ["Jan", "Feb", "Mar"], [Series("NRR", [Decimal("0.96"), Decimal("0.98"), Decimal("0.97")]),
                     Series("GRR", [Decimal("0.95"), Decimal("0.96"), Decimal("0.96")], "s2 dashed")],
                     fmt=lambda v: f"{float(v) * 100:.1f} %", zero_based=False)  # fmt: skip
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert ticks and "0.0 %" not in ticks and float(ticks[0].rstrip(" %")) >= 90
    assert 'class="line s2 dashed"' in svg
    zero = line_chart("Churn", ["Jan"], [Series("churn", [Decimal("0.02")])], fmt=lambda v: f"{float(v) * 100:.1f} %")
    assert "0.0 %" in re.findall(r'class="tick"[^>]*>([^<]+)<', zero)
