"""Keywords (YAKE) and their grouping into a small bilingual list of customer-success themes."""

import re

WORD = re.compile(r"\w+", re.UNICODE)
MAX_KEYWORDS = 5

# theme → word stems (English and German); a word belongs to a theme when it starts with a stem.
# Stems of three letters or fewer must match the whole word ("ui", "api").
THEMES = {
    "support": ("support", "help", "hotline", "ticket", "service", "kundendienst", "hilfe", "answer", "antwort",
                "response", "reaktion", "ansprechpartner"),
    "pricing": ("price", "pricing", "cost", "expensive", "cheap", "preis", "kosten", "teuer", "günstig", "billig",
                "lizenz", "licen"),
    "billing": ("invoice", "billing", "payment", "rechnung", "zahlung", "abrechnung"),
    "performance": ("slow", "fast", "speed", "performance", "lag", "loading", "langsam", "schnell", "ladezeit",
                    "geschwindigkeit", "träge"),
    "reliability": ("bug", "crash", "error", "outage", "down", "broken", "unstable", "stable", "fehler", "absturz",
                    "abstürz", "ausfall", "kaputt", "stabil", "instabil"),
    "usability": ("easy", "intuitive", "ui", "interface", "design", "usability", "confusing", "complicated",
                  "einfach", "intuitiv", "oberfläche", "bedienung", "benutz", "übersichtlich", "kompliziert",
                  "umständlich"),
    "features": ("feature", "function", "integration", "export", "import", "api", "missing", "funktion",
                 "schnittstelle", "fehlt", "vermisse"),
    "onboarding": ("onboarding", "setup", "training", "documentation", "docs", "schulung", "einrichtung",
                   "dokumentation", "einarbeitung", "anleitung"),
}
THEME_CHOICES = sorted(THEMES)


def theme_of_word(word: str) -> str | None:
    word = word.lower()
    for theme, stems in THEMES.items():
        for stem in stems:
            if (word == stem) if len(stem) <= 3 else word.startswith(stem):
                return theme
    return None


def extract_keywords(text: str, language: str) -> list[str]:
    """Return up to five key phrases of `text`, most relevant first."""
    import yake  # heavy: loaded on first use, not when Django starts

    extractor = yake.KeywordExtractor(lan=language, n=2, top=MAX_KEYWORDS, dedupLim=0.7)
    return [phrase for phrase, _score in extractor.extract_keywords(text)]


def themes_of(text: str, keywords: list[str]) -> list[str]:
    """Return the sorted themes that the keywords (or, failing them, any word of `text`) belong to."""
    found = {theme_of_word(w) for phrase in keywords for w in WORD.findall(phrase)} - {None}
    if not found:
        found = {theme_of_word(w) for w in WORD.findall(text)} - {None}
    return sorted(found)
