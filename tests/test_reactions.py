"""Cross-app reactions go through signals owned by the lower app, and import kinds are registered by their app."""

import pytest

from importing.base import Kind
from importing.runner import KINDS, register
from importing.services import import_and_announce
from importing.signals import import_finished
from surveys.imports import SurveyResponses
from tests.import_support import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    results = []

    def receiver(sender, result, **kwargs):
        results.append(result)

    import_finished.connect(receiver)
    yield results
    import_finished.disconnect(receiver)


def test_a_committed_import_is_announced_once_with_what_it_wrote(tmp_path, announced):
    result = import_and_announce("customers", csv_file(tmp_path, "external_id,name\nA,Acme\nB,Beta\n"))
    assert announced == [result]
    assert (result.kind, result.created, len(result.touched_customer_ids)) == ("customers", 2, 2)


def test_a_dry_run_and_a_refused_file_are_not_announced(tmp_path, announced):
    import_and_announce("customers", csv_file(tmp_path, "external_id,name\nA,Acme\n"), dry_run=True)
    import_and_announce("customers", csv_file(tmp_path, "external_id,name,country\nA,Acme,Germany\n"))
    assert announced == []


def test_survey_responses_are_a_kind_surveys_registers():
    assert KINDS["survey_responses"] is SurveyResponses
    register(SurveyResponses)  # registering the same kind again changes nothing

    class Impostor(Kind):
        name = "survey_responses"

    with pytest.raises(ValueError, match="another import kind is registered as 'survey_responses'"):
        register(Impostor)
    assert KINDS["survey_responses"] is SurveyResponses
