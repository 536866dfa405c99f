"""Offline feedback analysis: language, sentiment (−1..1) and themes of a comment, German or English.

Everything runs in-process from data shipped inside the installed packages (no network,
no model download): lingua for the language, VADER's lexicon for English sentiment,
the SentiWS word list (shipped by `gersent`) for German, YAKE for keywords, and our
own bilingual theme list (`themes.py`) to group keywords into themes.
"""

from dataclasses import dataclass, field

from surveys.analysis.language import detect_language
from surveys.analysis.sentiment import sentiment
from surveys.analysis.themes import extract_keywords, themes_of


@dataclass(frozen=True)
class Analysis:
    language: str  # "de", "en" or "" when unknown
    sentiment: float | None  # −1..1; None without text
    keywords: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)


def analyze(text: str, hint: str = "") -> Analysis:
    """Return the analysis of `text`; `hint` (the contact's language) decides when detection can't."""
    text = (text or "").strip()
    if not text:
        return Analysis(language="", sentiment=None)
    language = detect_language(text) or (hint if hint in ("de", "en") else "")
    lang = language or "en"
    keywords = extract_keywords(text, lang)
    return Analysis(
        language=language,
        sentiment=sentiment(text, lang),
        keywords=keywords,
        themes=themes_of(text, keywords),
    )
