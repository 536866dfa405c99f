"""A survey answer's comment is analysed by a Celery worker after the answer is committed: the web
request stores the answer and never runs (nor imports) the language models. With a worker, the beat
task analyses it in a batch (tests/test_survey_analysis_batch.py); with eager tasks, as here, the
analysis is queued to run on commit."""

import datetime
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from surveys import services
from surveys.models import SurveyResponse
from tests.factories import ContactFactory
from tests.surveys_support import InvitationFactory

pytestmark = pytest.mark.django_db
MODEL_PACKAGES = ("lingua", "vaderSentiment", "yake")


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _open_invitation():
    now = timezone.now()
    return InvitationFactory(contact=ContactFactory(language="en"), created_at=now, expires_at=now + datetime.timedelta(days=14))


def _no_analysis_here(*args, **kwargs):
    raise AssertionError("the web request ran the comment analysis")


def test_a_submit_stores_the_answer_and_queues_its_analysis(client, monkeypatch, django_capture_on_commit_callbacks):
    invitation = _open_invitation()
    monkeypatch.setattr("surveys.analysis.analyze", _no_analysis_here)
    with django_capture_on_commit_callbacks() as queued:
        page = client.post(invitation.get_absolute_url(), {"score": "9", "comment": "Great support, fast answers."})
    assert page.status_code == 302
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.score, response.analyzed_at, response.language, response.themes) == (9, None, "", [])
    assert len(queued) == 1  # a promoter: no follow-up signal, only the analysis
    monkeypatch.undo()
    queued[0]()  # what the worker does once the answer is committed (tasks run eagerly in the tests)
    response.refresh_from_db()
    assert response.language == "en" and response.sentiment > 0 and "support" in response.themes
    assert response.analyzed_at is not None


def test_a_changed_answer_forgets_the_old_analysis_and_queues_a_new_one(django_capture_on_commit_callbacks):
    invitation = _open_invitation()
    with django_capture_on_commit_callbacks(execute=True):
        services.response_record(invitation=invitation, score=9, comment="Great support team!")
    response = SurveyResponse.objects.get()
    assert response.sentiment > 0
    with django_capture_on_commit_callbacks() as queued:
        services.response_record(invitation=invitation, score=2, comment="Das Produkt ist langsam und teuer.")
    response.refresh_from_db()
    assert (response.sentiment, response.analyzed_at, response.keywords) == (None, None, [])
    for callback in queued:  # the analysis, and the detractor's follow-up signal
        callback()
    response.refresh_from_db()
    assert response.language == "de" and response.sentiment < 0


def test_an_answer_without_a_comment_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        services.response_record(invitation=_open_invitation(), score=7)
    assert queued == []


def test_the_web_application_does_not_import_the_language_models():
    """Load what a web worker loads (the WSGI application, every URL's view, the survey services)."""
    code = (
        "import sys, django; from django.core.wsgi import get_wsgi_application; application = get_wsgi_application();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "import surveys.views.public, surveys.services, surveys.tasks, web.views;"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {MODEL_PACKAGES!r}); print(loaded); sys.exit(bool(loaded))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "csplatform.test_settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
