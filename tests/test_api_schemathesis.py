"""Property-based tests of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests, valid and invalid, as an
admin with a token; none may answer 500 and every documented response must match its
schema. Derandomized, so a run is repeatable. Schemathesis' coverage phase (thousands
of boundary cases, a few minutes) runs only with SCHEMATHESIS_COVERAGE=1.
"""

import os

import pytest
import schemathesis
from schemathesis import GenerationMode
from django.core import signals
from django.db import close_old_connections
from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api_support import client_for, fresh_throttles, make_world, tmp_media  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles", "tmp_media")]


# Loaded at collection (schemathesis' lazy fixture loader does not run under pytest 9); the
# schema view needs no database. The test client's host is "localhost".
with override_settings(ALLOWED_HOSTS=["*"]):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())
schema.config.phases.coverage.enabled = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calls through WSGIHandler close the database connection after each request, as in
    production; inside a test that would close the test's transaction (PostgreSQL). The
    Django test client disconnects these handlers the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(admin_user, csm, monkeypatch, settings):
    """An admin's token header, with records to hit and no throttling in the way."""
    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setattr(UserRateThrottle, "rate", "100000/minute", raising=False)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "100000/minute"})
    make_world(owner=csm)
    client_for(admin_user)  # creates the token
    return {"Authorization": f"Token {admin_user.auth_token.key}"}


# One pytest item per operation, named by it (schemathesis' own `schema.parametrize()` items
# share one node id, so pytest-xdist, which schedules by node id, ran only the first).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
VALID_AND_INVALID = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_no_input_makes_the_api_fail_or_break_its_schema(operation, admin_token):
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in VALID_AND_INVALID))

    @given(case=cases)
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answers_within_its_schema(case):
        case.call_and_validate(headers=admin_token, checks=[not_a_server_error, response_schema_conformance])

    answers_within_its_schema()
