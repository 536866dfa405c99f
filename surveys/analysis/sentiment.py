"""Lexicon sentiment in −1..1: VADER for English, SentiWS word weights (shipped by gersent) for German."""

import functools
import importlib.resources
import json
import math
import re

TOKEN = re.compile(r"\w+|[.,;:!?]")
CLAUSE_END = re.compile(r"[.,;:!?]")
# German valence shifters: a negation flips the next few words, an intensifier boosts the next one.
NEGATIONS = {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "nichts"}
NEGATION_REACH = 3
INTENSIFIERS = {"sehr": 1.5, "extrem": 1.6, "total": 1.4, "wirklich": 1.3, "absolut": 1.5, "echt": 1.3, "super": 1.4,
                "äußerst": 1.6, "besonders": 1.3, "ziemlich": 1.2, "zu": 1.2}
# x / sqrt(x² + ALPHA) squashes a sum of SentiWS weights (each −1..1) into −1..1, as VADER does.
ALPHA = 0.25


@functools.cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # heavy: loaded on first use

    return SentimentIntensityAnalyzer()


@functools.cache
def _sentiws() -> dict[str, float]:
    """Return SentiWS as {lower-case word form: weight}; forms listed twice keep their mean."""
    root = importlib.resources.files("gersent") / "wordlists" / "de"
    sums: dict[str, list[float]] = {}
    for name in ("positive.json", "negative.json"):
        for word, weight in json.loads((root / name).read_text(encoding="utf-8")).items():
            sums.setdefault(word.lower(), []).append(float(weight))
    return {word: sum(ws) / len(ws) for word, ws in sums.items()}


def german_sentiment(text: str) -> float:
    lexicon = _sentiws()
    total, flip_left, boost = 0.0, 0, 1.0
    for word in TOKEN.findall(text.lower()):
        if CLAUSE_END.fullmatch(word):  # a negation reaches no further than its clause
            flip_left, boost = 0, 1.0
            continue
        if word in NEGATIONS:
            flip_left = NEGATION_REACH
            continue
        if word in INTENSIFIERS:
            boost = INTENSIFIERS[word]
            continue
        weight = lexicon.get(word)
        if weight is not None:
            total += weight * boost * (-1 if flip_left else 1)
        boost = 1.0
        flip_left = max(0, flip_left - 1)
    return total / math.sqrt(total * total + ALPHA)


def sentiment(text: str, language: str) -> float:
    """Return the sentiment of `text` in −1..1, rounded to 3 places."""
    value = german_sentiment(text) if language == "de" else _vader().polarity_scores(text)["compound"]
    return round(max(-1.0, min(1.0, value)), 3)
