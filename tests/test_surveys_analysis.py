"""Offline feedback analysis in German and English."""

import pytest

from surveys.analysis import analyze
from surveys.analysis.themes import theme_of_word


def test_empty_comment_has_no_analysis():
    result = analyze("   ")
    assert result.language == "" and result.sentiment is None and result.themes == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Der Support war sehr langsam und die Rechnung war falsch.", "de"),
        ("The support team was slow and the invoice was wrong.", "en"),
    ],
)
def test_language_is_detected(text, language):
    assert analyze(text).language == language


def test_short_text_falls_back_to_the_contacts_language():
    assert analyze("ok", hint="de").language in ("de", "")
    assert analyze("ok", hint="de").sentiment is not None


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Tolles Produkt, sehr einfach zu bedienen!", 1),
        ("Der Support war sehr langsam und die Rechnung falsch.", -1),
        ("Nicht gut, ständig Abstürze.", -1),
        ("Great product, the team is fantastic.", 1),
        ("Terrible experience, constant crashes and awful support.", -1),
    ],
)
def test_sentiment_has_the_right_sign(text, sign):
    value = analyze(text).sentiment
    assert -1 <= value <= 1
    assert value * sign > 0.2


def test_a_german_negation_flips_only_its_clause():
    assert analyze("Das ist nicht schlecht.").sentiment > 0


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("Der Support war langsam und die Rechnung falsch.", {"support", "performance", "billing"}),
        ("Too expensive, and the export feature is missing.", {"pricing", "features"}),
        ("Die Bedienung ist kompliziert, die Dokumentation fehlt.", {"usability", "onboarding"}),
    ],
)
def test_themes_group_keywords_in_both_languages(text, themes):
    assert themes <= set(analyze(text).themes)


def test_short_stems_match_whole_words_only():
    assert theme_of_word("UI") == "usability"
    assert theme_of_word("uint") is None
