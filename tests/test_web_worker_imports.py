"""A web worker stays lean: importing the URL configuration and serving the public survey page and
its submit load neither the churn model's numeric libraries (scikit-learn, SciPy, NumPy) nor the
comment analysis' language models; only training a churn model imports them.

Each check runs in a fresh interpreter (a subprocess) and reads its `sys.modules`: in the test
process earlier tests have imported everything already.
"""

import datetime
import json
import sqlite3
import subprocess
import sys
import urllib.parse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from surveys.models import SurveyResponse
from tests.factories import ContactFactory
from tests.surveys_support import InvitationFactory

HEAVY = ("sklearn", "scipy", "numpy", "pandas", "lingua", "yake", "vaderSentiment")

# What a gunicorn worker does: load the WSGI application and every URL's view, then serve
# requests. Tasks are queued (to an in-memory broker), not run, as in production.
SERVE = """
import json, sys
from django.conf import settings
settings.CELERY_TASK_ALWAYS_EAGER = False
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
from django.urls import get_resolver
get_resolver().url_patterns

def heavy():
    return sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))

found = {"urls": heavy()}
if PATH:
    from django.test import Client
    client = Client()
    page = client.get(PATH)
    submit = client.post(PATH, {"score": "9", "comment": "Great support, fast answers."})
    found.update(get=page.status_code, post=submit.status_code, served=heavy())
print(json.dumps(found))
"""


def _database_url(tmp_path) -> str:
    """Return a URL by which another process reads what this test committed."""
    connection.ensure_connection()
    db = connection.settings_dict
    if connection.vendor == "sqlite":  # the test database lives in memory: hand over a copy
        target = tmp_path / "copy.sqlite3"
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{target}"
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgresql://{urllib.parse.quote(db['USER'])}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _serve(database_url: str, path: str = "") -> dict:
    code = f"HEAVY = {HEAVY!r}\nPATH = {path!r}\n" + SERVE
    env = {
        "DJANGO_SETTINGS_MODULE": "csplatform.test_settings", "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": "memory://", "ALLOWED_HOSTS": "testserver",
    }  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_url_configuration_loads_no_numeric_library_nor_language_model(tmp_path):
    assert _serve(f"sqlite:///{tmp_path / 'unused.sqlite3'}") == {"urls": []}


@pytest.mark.django_db(transaction=True)
def test_serving_the_public_survey_page_and_its_submit_loads_none_of_them(tmp_path):
    cache.clear()
    now = timezone.now()
    invitation = InvitationFactory(
        contact=ContactFactory(language="en"), created_at=now, expires_at=now + datetime.timedelta(days=14)
    )
    url = _database_url(tmp_path)
    found = _serve(url, invitation.get_absolute_url())
    assert found == {"urls": [], "get": 200, "post": 302, "served": []}
    if connection.vendor != "sqlite":  # the other process wrote to this database
        assert SurveyResponse.objects.get(invitation=invitation).score == 9


def test_a_model_card_page_scores_without_the_numeric_libraries_but_training_loads_them():
    """The split is real: `churn.prediction` (scoring) is plain Python, `churn.learning` (fitting) needs scikit-learn."""
    code = (
        "import sys, django; django.setup(); import churn.scoring, churn.selectors, churn.publishing, churn.tasks, web.churn_views;"
        f"before = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}));"
        "import churn.training; after = 'sklearn' in sys.modules and 'numpy' in sys.modules; print(before, after)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "csplatform.test_settings", "PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite://", "CELERY_BROKER_URL": "memory://"}
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"
