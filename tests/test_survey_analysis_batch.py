"""Survey comments are analysed in batches by a beat task on the analysis queue, not one broker message
per answer: a submit stores the answer with `analyzed_at` empty, and `surveys.responses_analyze_pending`
(every minute) analyses every such answer, skipping the analysed ones, keeping the rest of a batch when
one comment fails, and (on PostgreSQL) skipping the rows another worker holds."""

import datetime
import threading

import pytest
from celery.schedules import crontab
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.utils import timezone

from csplatform.celery import app
from surveys import selectors, services, tasks
from surveys.models import SurveyResponse
from tests.factories import ContactFactory
from tests.surveys_support import InvitationFactory

pytestmark = pytest.mark.django_db

COMMENTS = ["Great support, fast answers.", "Das Produkt ist langsam und teuer.", "", "Slow onboarding.", "Toller Support!"]


def _answers(comments=COMMENTS) -> list[SurveyResponse]:
    """Store one answer per comment the way a submit in production does: no analysis yet."""
    now = timezone.now()
    stored = []
    for i, comment in enumerate(comments):
        invitation = InvitationFactory(
            contact=ContactFactory(language="de" if i % 2 else "en"), created_at=now, expires_at=now + datetime.timedelta(days=14)
        )
        stored.append(services.response_record(invitation=invitation, score=9, comment=comment, now=now).response)
    return stored


@pytest.fixture
def lazy_tasks():
    """Tasks queued as in production (a worker and beat elsewhere), not run in this process."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def counted(monkeypatch):
    """Count the comments analysed (the real analysis still runs)."""
    from surveys import analysis

    seen = []
    real = analysis.analyze

    def analyze(text, hint=""):
        seen.append(text)
        return real(text, hint=hint)

    monkeypatch.setattr(analysis, "analyze", analyze)
    return seen


def test_a_submit_sends_no_broker_message_and_leaves_the_answer_to_the_batch(
    client, lazy_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    cache.clear()
    sent = []
    monkeypatch.setattr(tasks.response_analyze, "apply_async", lambda *a, **k: sent.append(a))
    now = timezone.now()
    invitation = InvitationFactory(contact=ContactFactory(language="en"), created_at=now, expires_at=now + datetime.timedelta(days=14))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = client.post(invitation.get_absolute_url(), {"score": "9", "comment": "Great support, fast answers."})
    assert page.status_code == 302 and callbacks == [] and sent == []
    response = SurveyResponse.objects.get()
    assert response.analyzed_at is None and selectors.analysis_backlog()[0] == 1
    assert tasks.responses_analyze_pending() == 1
    response.refresh_from_db()
    assert response.language == "en" and response.sentiment > 0 and "support" in response.themes
    assert selectors.analysis_backlog() == (0, None)


def test_with_eager_tasks_a_submit_is_still_analysed_once_committed(django_capture_on_commit_callbacks):
    """No worker, no beat (tests, a one-process setup): the analysis runs right after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        (response,) = _answers(["Great support, fast answers."])
    response.refresh_from_db()
    assert response.analyzed_at is not None and response.language == "en"


def test_the_batch_analyses_every_pending_answer_across_batches(lazy_tasks, counted):
    stored = _answers()
    assert selectors.analysis_backlog()[0] == len(COMMENTS)
    assert services.responses_analyze_pending(batch_size=2) == len(COMMENTS)
    assert sorted(counted) == sorted(COMMENTS)  # each once, the empty comment too (it is marked analysed)
    by_pk = {r.pk: r for r in SurveyResponse.objects.all()}
    assert all(r.analyzed_at is not None for r in by_pk.values())
    assert by_pk[stored[1].pk].language == "de" and by_pk[stored[1].pk].sentiment < 0
    assert by_pk[stored[2].pk].language == "" and by_pk[stored[2].pk].sentiment is None
    assert selectors.analysis_backlog() == (0, None)


def test_the_batch_skips_analysed_answers_and_a_second_run_changes_nothing(lazy_tasks, counted):
    first, *rest = _answers()
    services.response_analyze(response_id=first.pk)
    first.refresh_from_db()
    counted.clear()
    assert services.responses_analyze_pending() == len(rest)
    assert first.comment not in counted
    assert SurveyResponse.objects.get(pk=first.pk).analyzed_at == first.analyzed_at
    before = list(SurveyResponse.objects.order_by("pk").values())
    counted.clear()
    assert services.responses_analyze_pending() == 0 and counted == []
    assert list(SurveyResponse.objects.order_by("pk").values()) == before


def test_a_failing_comment_is_logged_and_left_for_the_next_run_without_losing_the_others(
    lazy_tasks, monkeypatch, caplog
):
    from surveys import analysis

    stored = _answers()
    real = analysis.analyze

    def analyze(text, hint=""):
        if text == COMMENTS[1]:
            raise ValueError("a comment the analysis cannot take")
        return real(text, hint=hint)

    monkeypatch.setattr(analysis, "analyze", analyze)
    assert services.responses_analyze_pending(batch_size=10) == len(COMMENTS) - 1
    assert f"analysing response {stored[1].pk} failed" in caplog.text
    pending = SurveyResponse.objects.filter(analyzed_at__isnull=True)
    assert list(pending.values_list("pk", flat=True)) == [stored[1].pk]
    monkeypatch.setattr(analysis, "analyze", real)
    assert services.responses_analyze_pending() == 1 and not pending.exists()


def test_a_changed_answer_is_analysed_again_and_corrected_themes_stay(lazy_tasks):
    (response,) = _answers(["Great support, fast answers."])
    services.responses_analyze_pending()
    response.refresh_from_db()
    services.themes_correct(response=response, themes=["pricing"], user=None)
    services.response_record(invitation=response.invitation, score=3, comment="Zu teuer und langsam.")
    response.refresh_from_db()
    assert response.analyzed_at is None and response.sentiment is None
    assert services.responses_analyze_pending() == 1
    response.refresh_from_db()
    assert response.language == "de" and response.sentiment < 0 and response.themes == ["pricing"]
    assert (response.score, response.comment) == (3, "Zu teuer und langsam.")


def test_a_run_past_its_time_budget_stops_after_its_batch_and_the_next_run_goes_on(lazy_tasks):
    _answers()
    assert services.responses_analyze_pending(batch_size=2, seconds=0) == 2
    assert selectors.analysis_backlog()[0] == len(COMMENTS) - 2
    assert services.responses_analyze_pending(batch_size=2) == len(COMMENTS) - 2


def test_the_oldest_waiting_answer_is_the_lag(lazy_tasks):
    _answers(["one", "two"])
    first = SurveyResponse.objects.order_by("pk").first()
    SurveyResponse.objects.filter(pk=first.pk).update(responded_at=timezone.now() - datetime.timedelta(minutes=5))
    waiting, oldest = selectors.analysis_backlog()
    assert waiting == 2 and timezone.now() - oldest >= datetime.timedelta(minutes=5)


def test_admin_shows_the_backlog_as_a_filter(admin_client, lazy_tasks):
    _answers(["one", "two", ""])
    page = admin_client.get("/admin/surveys/surveyresponse/")
    assert page.status_code == 200 and "waiting (3" in page.content.decode()
    waiting = admin_client.get("/admin/surveys/surveyresponse/?analysis=waiting")
    assert waiting.context["cl"].result_count == 3
    services.responses_analyze_pending()
    assert admin_client.get("/admin/surveys/surveyresponse/?analysis=done").context["cl"].result_count == 3
    assert "waiting (0)" in admin_client.get("/admin/surveys/surveyresponse/").content.decode()


def test_beat_runs_the_batch_every_minute_on_the_analysis_queue():
    entry = app.conf.beat_schedule["survey-comments-analyse"]
    assert entry["task"] == "surveys.responses_analyze_pending" == tasks.responses_analyze_pending.name
    assert entry["schedule"] == crontab() and entry["options"]["expires"] <= 60
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "analysis"
    assert tasks.PENDING_SECONDS < 60  # a run ends before the next one is due


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_backlog_without_analysing_the_same_rows(lazy_tasks):
    """Rows another worker holds (FOR UPDATE) are skipped, not waited for; the next run takes them."""
    stored = _answers()
    held = [r.pk for r in stored[:2]]
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(SurveyResponse.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(30)
        assert services.responses_analyze_pending() == len(COMMENTS) - 2
        assert set(SurveyResponse.objects.filter(analyzed_at__isnull=True).values_list("pk", flat=True)) == set(held)
    finally:
        release.set()
        thread.join(30)
    assert services.responses_analyze_pending() == 2
    assert connection.vendor == "postgresql"
