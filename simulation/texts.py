"""Words the simulator puts into the data: company and person names, ticket subjects and
survey comments in German and English, each comment matching the sentiment of its score.
"""

from surveys import scales

COMPANY_STEMS = (
    "Adler", "Alpen", "Berg", "Blau", "Bright", "Cedar", "Delta", "Donau", "Edel", "Elb",
    "Falken", "Fjord", "Granit", "Green", "Hafen", "Harbor", "Iris", "Isar", "Kiefer", "Lumen",
    "Main", "Maple", "Nord", "Nova", "Oak", "Orbit", "Polar", "Quelle", "Rhein", "River",
    "Sonnen", "Spree", "Stern", "Summit", "Tann", "Union", "Vista", "Weser", "Wolf", "Zeder",
)
COMPANY_TAILS = (
    "werk", "tec", "soft", "logistik", "data", "bau", "media", "systems", "consult", "labs",
    "commerce", "solutions", "digital", "energy", "health", "works", "trade", "analytics",
)
CITIES = ("Berlin", "Hamburg", "München", "Wien", "Zürich", "London", "Boston", "Lyon", "Utrecht", "Malmö")

FIRST_NAMES = {
    "de": ("Anna", "Lukas", "Marie", "Jonas", "Lena", "Felix", "Sophie", "Paul", "Laura", "Tobias",
           "Julia", "Moritz", "Katrin", "Stefan", "Sabine", "Jürgen", "Claudia", "Florian", "Nina", "Matthias"),
    "en": ("Emma", "James", "Olivia", "Liam", "Ava", "Noah", "Mia", "Ethan", "Chloe", "Lucas",
           "Grace", "Oscar", "Zoe", "Henry", "Ella", "Samuel", "Ruby", "Daniel", "Isla", "Thomas"),
}
LAST_NAMES = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
           "Walker", "Wright", "Thompson", "Clarke", "Hughes", "Green", "Hall", "Wood", "Harris"),
}

TICKET_SUBJECTS = {
    "de": ("Export nach Excel schlägt fehl", "Login nicht möglich", "Dashboard lädt sehr langsam",
           "Frage zur Rechnung", "Integration mit Salesforce bricht ab", "Benutzer einladen funktioniert nicht",
           "API liefert Fehler 500", "Bericht zeigt falsche Zahlen", "Passwort zurücksetzen",
           "Wie richte ich SSO ein?", "Daten fehlen nach dem Import", "Lizenzen erweitern"),
    "en": ("Excel export fails", "Cannot log in", "Dashboard loads very slowly", "Question about invoice",
           "Salesforce integration keeps disconnecting", "Inviting users does not work", "API returns error 500",
           "Report shows wrong numbers", "Password reset", "How do I set up SSO?", "Data missing after import",
           "Add more seats"),
}

# Comments by language and sentiment; negative ones name a reason (bugs, price, support, speed).
COMMENTS = {
    ("de", "negative"): (
        "Ständig neue Fehler, der Export ist seit Wochen kaputt.",
        "Viel zu teuer für das, was wir tatsächlich nutzen.",
        "Der Support antwortet langsam und unser Ticket ist immer noch offen.",
        "Die Anwendung ist extrem langsam, Berichte laden ewig.",
        "Nach dem letzten Update funktioniert die Integration nicht mehr.",
        "Preiserhöhung ohne Mehrwert, wir prüfen Alternativen.",
        "Wir mussten dreimal nachfragen, bis jemand das Problem verstanden hat.",
    ),
    ("de", "neutral"): (
        "Funktioniert im Großen und Ganzen, aber die Berichte könnten flexibler sein.",
        "Solide, allerdings fehlt uns eine bessere Übersicht für Teams.",
        "Ganz okay, die Einarbeitung hat etwas gedauert.",
        "Gut, aber der Preis ist für kleine Teams recht hoch.",
    ),
    ("de", "positive"): (
        "Super einfach zu bedienen, unser Team nutzt es täglich.",
        "Der Support ist schnell und sehr kompetent, danke!",
        "Die Dashboards sparen uns jede Woche Stunden.",
        "Tolle Integration mit unseren Systemen, klare Empfehlung.",
        "Sehr zuverlässig und die Berichte sind genau, was wir brauchen.",
    ),
    ("en", "negative"): (
        "Constant bugs, the export has been broken for weeks.",
        "Far too expensive for what we actually use.",
        "Support is slow and our ticket is still open.",
        "The app is painfully slow, reports take forever to load.",
        "Since the last update the integration no longer works.",
        "Price went up with no added value, we are looking at alternatives.",
        "We had to chase support three times before anyone understood the issue.",
    ),
    ("en", "neutral"): (
        "Works on the whole, but reports could be more flexible.",
        "Solid, though we miss a better overview for teams.",
        "Fine overall, onboarding took a while.",
        "Good, but the price is steep for a small team.",
    ),
    ("en", "positive"): (
        "Really easy to use, our whole team works with it every day.",
        "Support is fast and knows their stuff, thank you!",
        "The dashboards save us hours every week.",
        "Great integration with our stack, highly recommended.",
        "Very reliable and the reports are exactly what we need.",
    ),
}

# The survey bands, but a comment on CES reads positive only from 6: (highest negative, lowest positive).
SENTIMENT_BANDS = {**scales.BANDS, scales.CES: (3, 6)}
SENTIMENTS = {"low": "negative", "mid": "neutral", "high": "positive"}


def sentiment(survey_type: str, score: int) -> str:
    """Return "negative", "neutral" or "positive" for a score on the type's scale."""
    return SENTIMENTS[scales.band(survey_type, score, SENTIMENT_BANDS)]


def ascii_slug(text: str) -> str:
    """Return `text` lower-cased with umlauts spelled out and anything but letters and digits dropped."""
    text = text.lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())
