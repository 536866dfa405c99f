"""The public survey page (languages, CSP, rate limit, one answer) and the CSM results page."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Task
from surveys import services
from surveys.models import SurveyResponse
from surveys.tokens import sign
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory, SurveyResponseFactory, TaskFactory
from tests.surveys_support import InvitationFactory

pytestmark = pytest.mark.django_db
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _open_invitation(**contact):
    now = timezone.now()
    return InvitationFactory(contact=ContactFactory(**contact), created_at=now, expires_at=now + datetime.timedelta(days=14))


def test_the_page_asks_in_english_with_a_fieldset_and_a_strict_csp(client):
    invitation = _open_invitation(language="en")
    page = client.get(invitation.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == CSP
    assert '<html lang="en">' in html
    assert "<fieldset" in html and "<legend><h1>How likely are you to recommend us" in html
    assert html.count('type="radio"') == 11
    assert "style=" not in html and "<script" not in html
    invitation.refresh_from_db()
    assert invitation.opened_at is not None


def test_the_page_speaks_german_to_a_german_contact(client):
    invitation = _open_invitation(language="de")
    html = client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html
    assert "Wie wahrscheinlich ist es" in html and "Sehr unwahrscheinlich" in html and "Senden" in html


def test_accept_language_decides_when_the_contacts_language_is_unknown(client):
    invitation = _open_invitation(language="")
    assert "Wie wahrscheinlich" in client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "How likely" in client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()


def test_a_score_link_preselects_but_records_nothing(client):
    invitation = _open_invitation()
    html = client.get(invitation.get_absolute_url() + "?score=3").content.decode()
    assert 'value="3" id="score-3" checked' in html
    assert "What would make you recommend us?" in html  # the detractors' follow-up question
    assert not SurveyResponse.objects.exists()


def test_answering_records_once_then_shows_the_answer(client):
    invitation = _open_invitation()
    url = invitation.get_absolute_url()
    page = client.post(url, {"score": "9", "comment": "Great support"})
    assert page.status_code == 302 and page["Location"] == reverse("surveys:thanks", args=[sign(invitation.token)])
    thanks = client.get(page["Location"])
    assert "Thank you!" in thanks.content.decode() and thanks["Content-Security-Policy"] == CSP
    assert client.get(url).status_code == 302  # a later visit shows the answer
    client.post(url, {"score": "4"})
    response = SurveyResponse.objects.get()
    assert response.score == 4 and response.changed_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("eager", [False, True])
def test_a_first_answer_costs_two_queries_and_no_broker_message(client, django_assert_num_queries, monkeypatch, eager):
    """The invitation with its survey, contact and response in one SELECT, then one INSERT in autocommit.

    With a worker (tasks not eager) nothing is queued: the beat task analyses the comment within a
    minute. With eager tasks (no worker, no beat) the analysis is queued to run on commit."""
    from csplatform.celery import app
    from surveys.tasks import response_analyze

    cache.clear()
    invitation = _open_invitation()
    queued = []
    monkeypatch.setattr(response_analyze, "delay", lambda *args: queued.append(args))
    was, app.conf.task_always_eager = app.conf.task_always_eager, eager
    try:
        with django_assert_num_queries(2):
            page = client.post(invitation.get_absolute_url(), {"score": "9", "comment": "Great support"})
    finally:
        app.conf.task_always_eager = was
    assert page.status_code == 302 and SurveyResponse.objects.get().score == 9
    assert queued == ([(SurveyResponse.objects.get().pk,)] if eager else [])


def test_after_24_hours_the_answer_is_shown_but_cannot_change(client, time_machine):
    invitation = _open_invitation()
    client.post(invitation.get_absolute_url(), {"score": "9"})
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25))
    client.post(invitation.get_absolute_url(), {"score": "1"})
    assert SurveyResponse.objects.get().score == 9
    html = client.get(reverse("surveys:thanks", args=[sign(invitation.token)])).content.decode()
    assert "can no longer be changed" in html


def test_missing_score_shows_an_error(client):
    invitation = _open_invitation()
    html = client.post(invitation.get_absolute_url(), {"comment": "hm"}).content.decode()
    assert "Please choose a score." in html and 'aria-invalid="true"' in html
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    "link",
    [
        lambda inv: "/s/not-a-token/",
        lambda inv: "/s/" + inv.token + ":forgedsignature/",
        lambda inv: "/s/" + sign("unknown-token") + "/",
        lambda inv: inv.get_absolute_url(),  # expired
    ],
)
def test_forged_unknown_and_expired_links_get_the_same_friendly_page(client, link):
    invitation = InvitationFactory(created_at=timezone.now() - datetime.timedelta(days=30), expires_at=timezone.now() - datetime.timedelta(days=1))
    page = client.get(link(invitation))
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()
    assert page["Content-Security-Policy"] == CSP
    assert client.post(link(invitation), {"score": "5"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_too_many_requests_from_one_address_get_a_friendly_429(client, settings):
    settings.CSPLATFORM_SURVEY_RATELIMIT = "3/m"
    for _ in range(3):
        assert client.get("/s/guess/").status_code == 404
    page = client.get("/s/guess/")
    assert page.status_code == 429 and "Please wait a moment" in page.content.decode()
    assert page["Content-Security-Policy"] == CSP


def test_a_contact_can_opt_out(client):
    invitation = _open_invitation(language="de")
    page = client.post(reverse("surveys:opt-out", args=[sign(invitation.token)]))
    assert "Sie wurden abgemeldet" in page.content.decode()
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out_at is not None


def test_the_static_css_exists():
    from django.contrib.staticfiles import finders

    assert finders.find("surveys/survey.css")


# --- Results page ----------------------------------------------------------------------


def test_results_need_a_login(client):
    page = client.get(reverse("surveys:results"))
    assert page.status_code == 302 and "login" in page["Location"]


def test_a_csm_sees_their_portfolio_only(client, csm, outsider):
    mine = CustomerFactory(owner=csm)
    SurveyResponseFactory(customer=mine, score=2, comment="Mine: far too slow")
    SurveyResponseFactory(customer=CustomerFactory(owner=outsider), score=10, comment="Not yours")
    client.force_login(csm)
    html = client.get(reverse("surveys:results")).content.decode()
    assert "Mine: far too slow" in html and "Not yours" not in html
    assert "Too few responses" in html


def test_a_manager_sees_everything_with_scores_from_the_kpi_formulas(client, manager):
    for score, mrr in ((10, 100), (10, 100), (9, 100), (8, 100), (3, 600)):
        response = SurveyResponseFactory(score=score, comment=f"score {score}")
        SubscriptionFactory(customer=response.customer, mrr=mrr)
    client.force_login(manager)
    page = client.get(reverse("surveys:results"))
    summary = page.context["summary"]
    assert summary["value"] == pytest.approx(40.0) and summary["n"] == 5 and summary["too_few"]
    assert page.context["weighted_nps"] == pytest.approx(100 * (300 - 600) / 1000)
    assert "score 3" in page.content.decode()


def test_filters_narrow_the_comments(client, manager):
    SurveyResponseFactory(score=2, comment="Die Rechnung ist falsch", language="de", themes=["billing"], sentiment=-0.5)
    SurveyResponseFactory(score=10, comment="Love it", language="en", themes=[], sentiment=0.8)
    client.force_login(manager)
    html = client.get(reverse("surveys:results"), {"theme": "billing"}).content.decode()
    assert "Die Rechnung" in html and "Love it" not in html
    html = client.get(reverse("surveys:results"), {"sentiment": "positive", "band": "high"}).content.decode()
    assert "Love it" in html and "Die Rechnung" not in html


def test_loop_closure_and_median_time_to_follow_up(client, manager):
    t0 = datetime.datetime(2024, 3, 1, 9, tzinfo=datetime.UTC)
    done = TaskFactory(source=Task.Source.SURVEY, completed_at=t0 + datetime.timedelta(hours=4))
    SurveyResponseFactory(score=1, responded_at=t0, follow_up_task=done, customer=done.customer)
    SurveyResponseFactory(score=2, responded_at=t0, follow_up_task=TaskFactory(source=Task.Source.SURVEY))
    client.force_login(manager)
    context = client.get(reverse("surveys:results")).context
    assert context["loop_closure"] == 50 and context["median_wait"] == datetime.timedelta(hours=4)


def test_a_csm_corrects_themes_of_their_own_responses_only(client, csm):
    mine = SurveyResponseFactory(customer=CustomerFactory(owner=csm), comment="slow")
    other = SurveyResponseFactory(comment="slow")
    client.force_login(csm)
    client.post(reverse("surveys:response-themes", args=[mine.pk]), {"themes": "performance, support"})
    mine.refresh_from_db()
    assert mine.themes == ["performance", "support"] and mine.themes_corrected and mine.themes_corrected_by == csm
    assert client.post(reverse("surveys:response-themes", args=[other.pk]), {"themes": "x"}).status_code == 404
    services.response_analyze(response_id=mine.pk)
    mine.refresh_from_db()
    assert mine.themes == ["performance", "support"]


def test_results_paging_links_replace_the_page_instead_of_appending_it(client, django_user_model):
    user = django_user_model.objects.create_user("mia", password="pw-Secret-123", is_superuser=True)
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    now = timezone.now()
    SurveyResponse.objects.bulk_create(
        SurveyResponse(customer=customer, contact=contact, survey_type="nps", score=i % 11, comment=f"comment {i}",
                       responded_at=now - datetime.timedelta(hours=i))  # fmt: skip
        for i in range(120)
    )
    client.force_login(user)
    html = client.get(reverse("surveys:results"), {"survey_type": "nps", "page": 2}).content.decode()
    links = re.findall(r'href="\?([^"]*)"', html)
    assert any("page=3" in link for link in links) and any("page=1" in link for link in links)
    assert all(link.count("page=") <= 1 for link in links)
    assert "staff.css" not in html and 'class="card filters"' in html


def test_a_manager_reads_themes_but_cannot_correct_them(client, manager):
    response = SurveyResponseFactory(score=3, comment="Slow", themes=["performance"])
    client.force_login(manager)
    html = client.get(reverse("surveys:results")).content.decode()
    assert "Slow" in html and 'name="themes"' not in html
    assert client.post(reverse("surveys:response-themes", args=[response.pk]), {"themes": "x"}).status_code == 403
    response.refresh_from_db()
    assert response.themes == ["performance"] and not response.themes_corrected
