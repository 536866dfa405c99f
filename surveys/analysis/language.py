"""Language detection between German and English with lingua (its models ship in the wheel)."""

import functools

MIN_CONFIDENCE = 0.6


@functools.cache
def _detector():
    from lingua import Language, LanguageDetectorBuilder  # heavy: loaded on first use, not when Django starts

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.GERMAN).build()


def detect_language(text: str) -> str:
    """Return "de" or "en", or "" when the text is too short or mixed to tell."""
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return ""
    return values[0].language.iso_code_639_1.name.lower()
