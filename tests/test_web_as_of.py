"""`?as_of=YYYY-MM-DD`: the account page and team reports as they were on a past day."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Customer
from metrics.health_snapshots import health_snapshot_write
from metrics.models import HealthScore
from metrics.periods import Period
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    NoteFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
)
from tests.kpi_example import build_worked_example

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2024, 6, 20, 12, 0, tzinfo=datetime.UTC)
HX = {"HTTP_HX_REQUEST": "true"}
D = datetime.date


def at(*args):
    return datetime.datetime(*args, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(csm):
    """MRR 100 until 2024-02-20, then 120; a ticket open 1–20 Feb; responses before and after 1 March."""
    customer = CustomerFactory(name="Acme GmbH", owner=csm, created_on=D(2023, 6, 1))
    SubscriptionFactory(customer=customer, plan="Pro", mrr=Decimal(100), started_at=D(2023, 6, 1),
                        ended_at=D(2024, 2, 20))  # fmt: skip
    SubscriptionFactory(customer=customer, plan="Pro Plus", mrr=Decimal(120), started_at=D(2024, 2, 20),
                        ended_at=D(2025, 2, 20))  # fmt: skip
    contact = ContactFactory(customer=customer, name="Petra Paul")
    TicketFactory(customer=customer, contact=contact, subject="Export broken", opened_at=at(2024, 2, 1, 9),
                  resolved_at=at(2024, 2, 20, 10), contacts_count=1)  # fmt: skip
    SurveyResponseFactory(customer=customer, contact=contact, score=4, comment="Before: too slow",
                          responded_at=at(2024, 2, 10, 9))  # fmt: skip
    SurveyResponseFactory(customer=customer, contact=contact, score=9, comment="After: much better",
                          responded_at=at(2024, 3, 5, 9))  # fmt: skip
    TaskFactory(customer=customer, assignee=csm, title="Fix the export with support", due_on=D(2024, 2, 10),
                created_at=at(2024, 2, 1, 10), completed_at=at(2024, 3, 10, 10))  # fmt: skip
    NoteFactory(customer=customer, author=csm, body="Later note about renewal", created_at=at(2024, 3, 10, 9))
    return customer


def _get(client, customer, as_of=None, **extra):
    params = {"as_of": as_of} if as_of else {}
    return client.get(reverse("web:account", args=[customer.pk]), params, **extra)


# --- Account page ----------------------------------------------------------------------


def test_account_as_of_a_past_day_shows_the_customer_as_it_was(client, csm, acme):
    client.force_login(csm)
    response = _get(client, acme, "2024-02-15")
    assert response.status_code == 200
    account, html = response.context["account"], response.content.decode()
    assert account.at == D(2024, 2, 15) and account.past
    assert account.mrr == Decimal(100) and account.plans == ["Pro"] and "€100" in html
    assert account.renewal_on == D(2024, 2, 20)  # the earliest end after D among rows active at D
    assert account.customer_since == D(2023, 6, 1)
    assert account.kpi_period == Period(D(2024, 1, 16), D(2024, 2, 15))
    assert account.mrr_series[-1] == (D(2024, 2, 15), Decimal(100)) and len(account.mrr_series) == 13
    assert [s.plan for s in account.subscriptions] == ["Pro"]  # Pro Plus had not started
    assert [t.subject for t in account.tickets] == ["Export broken"] and account.tickets[0].open_then
    assert account.open_tickets == 1
    assert [r.comment for r in account.responses] == ["Before: too slow"]
    assert "After: much better" not in html and "Later note about renewal" not in html
    task = account.tasks[0]
    assert task.title == "Fix the export with support" and not task.done_then  # completed only in March
    assert "Viewing as of 2024-02-15" in html and "back to today" in html
    assert f'href="{reverse("web:account", args=[acme.pk])}"' in html  # back to today drops as_of
    assert 'id="add-note"' not in html and 'id="add-task"' not in html
    assert "web:task-complete" not in html and "/complete/" not in html
    assert "A read-only view of the past" in html
    timeline = response.context["timeline"]
    assert {e.kind for e in timeline} == {"task", "ticket", "response"}
    assert next(e for e in timeline if e.kind == "ticket").open
    assert not next(e for e in timeline if e.kind == "task").done


def test_account_as_of_later_day_shows_the_new_mrr_and_the_resolved_ticket(client, csm, acme):
    client.force_login(csm)
    response = _get(client, acme, "2024-03-01")
    account, html = response.context["account"], response.content.decode()
    assert account.mrr == Decimal(120) and account.plans == ["Pro Plus"] and "€120" in html
    assert account.renewal_on == D(2025, 2, 20)
    assert account.open_tickets == 0 and not account.tickets[0].open_then
    assert [r.comment for r in account.responses] == ["Before: too slow"]
    assert [s.plan for s in account.subscriptions] == ["Pro Plus", "Pro"]
    assert "Viewing as of 2024-03-01" in html


def test_half_open_boundaries_on_the_day_of_the_change(client, csm, acme):
    client.force_login(csm)
    account = _get(client, acme, "2024-02-20").context["account"]
    assert account.mrr == Decimal(120)  # the new row covers its first day, the old one ended
    assert account.open_tickets == 1  # resolved at 10:00 on the 20th: still open at the start of the day


def test_account_today_shows_everything(client, csm, acme):
    client.force_login(csm)
    response = _get(client, acme)
    account, html = response.context["account"], response.content.decode()
    assert account.at == D(2024, 6, 20) and not account.past
    assert [r.comment for r in account.responses] == ["After: much better", "Before: too slow"]
    assert "Later note about renewal" in html and 'id="add-note"' in html
    assert "Viewing as of" not in html
    assert _get(client, acme, "2024-06-20").context["account"].past is False  # today is allowed: the live view


@pytest.mark.parametrize(
    "value, message",
    [
        ("2024-13-01", "Enter the date as YYYY-MM-DD"),
        ("yesterday", "Enter the date as YYYY-MM-DD"),
        ("2024-06-21", "2024-06-21 is in the future"),
    ],
)
def test_bad_as_of_shows_the_error_and_todays_view(client, csm, acme, value, message):
    client.force_login(csm)
    response = _get(client, acme, value)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "Showing today instead." in html and 'aria-invalid="true"' in html
    account = response.context["account"]
    assert account.at == D(2024, 6, 20) and account.mrr == Decimal(120) and not account.past
    assert "Viewing as of" not in html and 'id="add-note"' in html
    assert not re.search(r'(href|hx-get)="[^"]*as_of=', html)  # links do not carry the bad value on


def test_health_at_a_past_day_prefers_the_stored_snapshot(client, csm, acme):
    client.force_login(csm)
    computed = _get(client, acme, "2024-02-15").context["account"]
    assert computed.health_source == "computed" and computed.health.at == D(2024, 2, 15)
    health_snapshot_write(D(2024, 2, 15), [acme.pk])
    HealthScore.objects.filter(customer=acme, day=D(2024, 2, 15)).update(score=Decimal("42.5"), band="at_risk")
    response = _get(client, acme, "2024-02-15")
    account = response.context["account"]
    assert account.health_source == "snapshot" and account.health.score == Decimal("42.5")
    assert account.health.band == "at_risk"
    assert set(account.health.components) >= {"frequency", "breadth", "sentiment", "growth"}
    assert Decimal(account.health.components["growth"].inputs["mrr"]) == 100
    html = response.content.decode()
    assert "Stored daily score of 15 Feb 2024" in html and "42.5" in html


def test_htmx_fragments_keep_as_of(client, csm, acme):
    client.force_login(csm)
    health_snapshot_write(D(2024, 2, 10), [acme.pk])
    health_snapshot_write(D(2024, 3, 10), [acme.pk])
    html = _get(client, acme, "2024-02-15").content.decode()
    timeline_url = reverse("web:account-timeline", args=[acme.pk]) + "?as_of=2024-02-15"
    health_url = reverse("alerts:account-health", args=[acme.pk]) + "?as_of=2024-02-15"
    assert f'hx-get="{timeline_url}"' in html and f'hx-get="{health_url}"' in html
    assert f'href="{health_url}"' in html  # the no-JS fallback link too

    timeline = client.get(timeline_url, **HX).content.decode()
    assert timeline.lstrip().startswith('<ol id="timeline"') and f'hx-get="{timeline_url}"' in timeline
    assert "Before: too slow" in timeline and "After: much better" not in timeline
    assert "Later note about renewal" not in timeline
    redirect = client.get(timeline_url)
    assert redirect.status_code == 302 and redirect["Location"].endswith("?as_of=2024-02-15")

    section = client.get(health_url, **HX).content.decode()
    assert "10 Feb 2024" in section and "10 Mar 2024" not in section  # the history up to the day, not after
    assert "until 2024-02-15" in section and "Start playbook" not in section and "Save rating" not in section
    full = client.get(reverse("alerts:account-health", args=[acme.pk]), **HX).content.decode()
    assert "Start playbook" in full
    page = client.get(health_url).content.decode()  # the section as a page links back to the past view
    assert f'href="{reverse("web:account", args=[acme.pk])}?as_of=2024-02-15"' in page


def test_who_may_see_an_account_as_of_a_day(client, csm, manager, outsider, acme):
    url = reverse("web:account", args=[acme.pk]) + "?as_of=2024-02-15"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("web:account-timeline", args=[acme.pk]) + "?as_of=2024-02-15", **HX).status_code == 404
    assert client.get(reverse("alerts:account-health", args=[acme.pk]) + "?as_of=2024-02-15").status_code == 404
    client.force_login(manager)
    html = client.get(url).content.decode()
    assert "Viewing as of 2024-02-15" in html and "€100" in html and 'id="add-note"' not in html
    client.force_login(csm)
    assert client.get(url).status_code == 200


def test_account_as_of_runs_a_fixed_number_of_queries(client, csm, django_assert_num_queries):
    client.force_login(csm)
    customer = CustomerFactory(owner=csm)
    n = 0

    def grow(count):
        nonlocal n
        for _ in range(count):
            n += 1
            contact = ContactFactory(customer=customer)
            NoteFactory(customer=customer, author=csm, created_at=at(2024, 1, 1 + n % 28))
            TaskFactory(customer=customer, assignee=csm, created_at=at(2024, 1, 1 + n % 28))
            TicketFactory(customer=customer, contact=contact, opened_at=at(2024, 1, 1 + n % 28))
            SurveyResponseFactory(customer=customer, contact=contact, responded_at=at(2024, 1, 1 + n % 28))
            SubscriptionFactory(customer=customer, plan=f"Plan {contact.pk}", started_at=D(2023, 1, 1 + n % 28))

    url = reverse("web:account", args=[customer.pk]) + "?as_of=2024-02-15"
    grow(2)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow(18)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- Team reports ------------------------------------------------------------------------


@pytest.fixture
def example(csm):
    customers = build_worked_example()
    Customer.objects.filter(pk__in=[customers["A"].pk, customers["B"].pk]).update(owner=csm)
    return customers


def test_report_as_of_defaults_to_the_last_full_month_before_the_day(client, manager, example):
    client.force_login(manager)
    response = client.get(reverse("web:reports"), {"as_of": "2024-03-15"})
    assert response.status_code == 200
    report, html = response.context["report"], response.content.decode()
    assert report.period == Period(D(2024, 2, 1), D(2024, 3, 1))
    assert "1 Feb 2024 – 29 Feb 2024" in html
    assert report.current["mrr"].value == Decimal(400) and "€400" in html
    assert report.current["mrr_opening"].value == Decimal(660)
    assert [m.start for m, _k in report.trends][-1] == D(2024, 2, 1) and len(report.trends) == 12
    assert "Viewing as of 2024-03-15" in html
    assert '<input type="hidden" name="as_of" value="2024-03-15">' in html
    assert "as_of=2024-03-15" in html.split('id="report-body"')[1]  # drill-down, export and CSM links
    assert 'hx-get="/reports/rows/mrr/?start=2024-02-01&amp;end=2024-03-01&amp;scope=company&amp;as_of=2024-03-15"' in html


def test_report_without_as_of_uses_today_and_explicit_periods_win(client, manager, example):
    client.force_login(manager)
    assert client.get(reverse("web:reports")).context["report"].period == Period(D(2024, 5, 1), D(2024, 6, 1))
    response = client.get(reverse("web:reports"), {"as_of": "2024-03-15", "start": "2024-01-01",
                                                   "end": "2024-02-01", "scope": "company"})  # fmt: skip
    assert response.context["report"].period == Period(D(2024, 1, 1), D(2024, 2, 1))
    month = client.get(reverse("web:reports"), {"as_of": "2024-03-15", "month": "2024-01", "scope": "company"})
    assert month.context["report"].period == Period(D(2024, 1, 1), D(2024, 2, 1))
    form_only = client.get(reverse("web:reports"), {"as_of": "2024-03-15", "scope": "company"})
    assert form_only.context["report"].period == Period(D(2024, 2, 1), D(2024, 3, 1))


def test_report_with_a_bad_as_of_shows_the_error_and_todays_default(client, manager, example):
    client.force_login(manager)
    for value, message in (("2024-13-01", "Enter the date as YYYY-MM-DD"), ("2030-01-01", "is in the future")):
        response = client.get(reverse("web:reports"), {"as_of": value})
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html and "Showing today instead." in html and "Viewing as of" not in html
        assert response.context["report"].period == Period(D(2024, 5, 1), D(2024, 6, 1))


def test_report_drilldown_and_export_keep_as_of(client, manager, example):
    client.force_login(manager)
    query = {"start": "2024-02-01", "end": "2024-03-01", "scope": "company", "as_of": "2024-03-15"}
    rows = client.get(reverse("web:report-rows", args=["logo_churn_rate"]), query)
    assert rows.status_code == 200
    back = reverse("web:reports") + "?start=2024-02-01&amp;end=2024-03-01&amp;scope=company&amp;as_of=2024-03-15"
    assert f'href="{back}"' in rows.content.decode()
    export = client.get(reverse("web:report-export"), {"as_of": "2024-03-15"})
    assert export.status_code == 200 and "kpis-2024-02-01-2024-03-01" in export["Content-Disposition"]


def test_report_as_of_for_each_role(client, csm, outsider, example):
    url = reverse("web:reports") + "?as_of=2024-03-15"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(csm)
    report = client.get(url).context["report"]
    assert report.scope.csm == "carla" and report.period == Period(D(2024, 2, 1), D(2024, 3, 1))
    assert report.current["mrr_opening"].value == Decimal(300)  # A 100 + B 200
    assert client.get(url + "&start=2024-02-01&end=2024-03-01&scope=csm:otto").status_code == 400
    client.force_login(outsider)
    assert client.get(url).context["report"].current["mrr_opening"].value == Decimal(0)


def test_account_as_of_a_day_before_it_was_a_customer_says_so_instead_of_at_risk_0(client, csm, acme):
    client.force_login(csm)
    html = _get(client, acme, "2023-05-01").content.decode()
    assert 'id="not-yet"' in html and "not a customer yet (since 1 Jun 2023)" in html
    assert "band-at_risk" not in html.split('id="not-yet"')[0].split("<h1>")[-1]
    html = _get(client, acme, "2023-06-01").content.decode()
    assert 'id="not-yet"' not in html  # from its first day on it is scored


def test_reports_of_a_future_month_show_no_data_instead_of_figures(client, manager, acme):
    client.force_login(manager)
    html = client.get(reverse("web:reports"), {"month": "2030-01", "scope": "company"}).content.decode()
    assert 'id="no-data-yet"' in html and "This period starts on 1 Jan 2030" in html
    assert "100.0 %" not in html and "kpi-table" not in html
    html = client.get(reverse("web:reports"), {"month": "2024-06", "scope": "company"}).content.decode()
    assert 'id="partial-period"' in html and "kpi-table" in html  # the current month: figures, with a note
    html = client.get(reverse("web:reports"), {"month": "2024-05", "scope": "company"}).content.decode()
    assert 'id="partial-period"' not in html and 'id="no-data-yet"' not in html
