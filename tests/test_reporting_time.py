"""Every date the product shows or groups by is a day in the reporting time zone (accounts.reporting_time)."""

import datetime

import pytest
from django.urls import reverse

from accounts import reporting_time
from tests.factories import SurveyResponseFactory

UTC = datetime.UTC


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_reporting_day_of_an_instant_east_and_west_of_utc(settings):
    settings.CSPLATFORM_REPORTING_TZ = "Europe/Berlin"
    assert reporting_time.day_of(at("2024-02-29T23:30")) == datetime.date(2024, 3, 1)
    assert reporting_time.today(at("2024-02-29T23:30")) == datetime.date(2024, 3, 1)
    settings.CSPLATFORM_REPORTING_TZ = "America/New_York"
    assert reporting_time.day_of(at("2024-03-01T03:00")) == datetime.date(2024, 2, 29)
    start, end = reporting_time.day_span(datetime.date(2024, 3, 9), datetime.date(2024, 3, 10))
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (at("2024-03-09T05:00"), at("2024-03-11T04:00"))  # DST
    assert reporting_time.day_of(datetime.date(2024, 3, 1)) == datetime.date(2024, 3, 1)
    with pytest.raises(ValueError):
        reporting_time.day_of(datetime.datetime(2024, 3, 1))


@pytest.mark.django_db
def test_survey_results_count_march_in_the_reporting_time_zone_as_the_kpi_api_does(settings, client, admin_user):
    settings.CSPLATFORM_REPORTING_TZ = "Europe/Berlin"
    settings.TIME_ZONE = "UTC"  # the UI's zone differs from the reporting one
    SurveyResponseFactory(score=10, responded_at=at("2024-02-29T23:30"))  # 1 March 00:30 in Berlin
    SurveyResponseFactory(score=0, responded_at=at("2024-03-31T22:30"))  # 1 April 00:30 in Berlin (summer time)
    client.force_login(admin_user)
    api = client.get("/api/v1/kpis/", {"start": "2024-03-01", "end": "2024-04-01", "keys": "nps"}).json()
    assert api["kpis"]["nps"]["value"] == 100
    context = client.get(reverse("surveys:results"), {"start": "2024-03-01", "end": "2024-04-01"}).context
    assert context["summary"]["value"] == 100.0 and context["summary"]["n"] == 1
    trend = {row["start"]: row["value"] for row in client.get(reverse("surveys:results")).context["trend"]}
    assert trend == {datetime.date(2024, 3, 1): 100.0, datetime.date(2024, 4, 1): -100.0}
