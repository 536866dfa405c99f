"""The CSM web app in German: every page the sidebar links to speaks German once the user
switches, no key English string is left over, and the catalogue is complete."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.models import Task
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    NoteFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TaskFactory,
    TicketFactory,
    UserDayActivityFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2024, 3, 15, 12, 0, tzinfo=datetime.UTC)
PO_FILE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"

# English a German page must not show: the sidebar and the most visible headings and buttons.
ENGLISH = [
    "My customers", "My tasks", "Team reports", "Profile & API", "Health changes", "Log out",
    "Add note", "Add task", "Export CSV", "Show as table", "Last 30 days", "Timeline", "Subscriptions",
    "Open tickets", "Open tasks", "Show report", "Onboarding funnel", "Last 12 months", "Paying customers",
    "Logo churn", "Net revenue retention", "Customers and revenue", "Voice of the customer", "Product usage",
    "API token", "Change password", "Rotate token", "No open tasks", "Everything assigned to you",
    "Drill-down", "Health history and playbooks", "Whole company",
]  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def customer(csm):
    mine = CustomerFactory(name="Acme GmbH", segment="SMB", owner=csm)
    SubscriptionFactory(customer=mine, mrr=Decimal("1000"), started_at=datetime.date(2023, 1, 1))
    contact = ContactFactory(customer=mine)
    UserDayActivityFactory(customer=mine, contact=contact, day=datetime.date(2024, 3, 10))
    TicketFactory(customer=mine, subject="Export broken")
    SurveyResponseFactory(customer=mine, contact=contact, score=3, comment="Too slow",
                          responded_at=NOW - datetime.timedelta(days=5))  # fmt: skip
    NoteFactory(customer=mine, author=csm, body="Kick-off went well")
    TaskFactory(customer=mine, assignee=csm, title="Call the champion", due_on=datetime.date(2024, 3, 1))
    return mine


@pytest.fixture
def german(client, csm):
    client.force_login(csm)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _assert_german(html: str, expected: list[str]):
    assert '<html lang="de">' in html
    for text in expected:
        assert text in html, text
    left = [text for text in ENGLISH if re.search(rf">\s*{re.escape(text)}", html)]
    assert not left, f"English left on a German page: {left}"


def test_the_sidebar_switch_sets_german_for_the_session(client, csm):
    client.force_login(csm)
    response = client.post(reverse("set_language"), {"language": "de", "next": reverse("web:tasks")})
    assert response.status_code == 302 and response["Location"] == reverse("web:tasks")
    html = _page(client, reverse("web:tasks"))
    _assert_german(html, ["Meine Kunden", "Meine Aufgaben", "Team-Berichte", "Abmelden", "Wechseln"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My tasks" in _page(client, reverse("web:tasks"))


def test_portfolio_in_german(german, customer):
    html = _page(german, reverse("web:portfolio"))
    _assert_german(html, [
        "<h1>Meine Kunden</h1>", "Kunden", "CSV exportieren", "Offene Tickets", "Offene Aufgaben", "Zuletzt aktiv",
        "Verlängerung", "Anwenden", "Zurücksetzen", "1 Kunde", "Gefährdet", "Alle Health-Stufen",
    ])  # fmt: skip


def test_account_in_german(german, customer):
    html = _page(german, reverse("web:account", args=[customer.pk]))
    _assert_german(html, [
        "Notiz hinzufügen", "Aufgabe hinzufügen", "Letzte 30 Tage", "Als Tabelle anzeigen", "Abonnements", "Verlauf",
        "Kunde seit", "Überfällig", "Erledigen", "Umfrageantworten", "MRR pro Monat", "Aktive Nutzer",
        "Was ist passiert? Was steht als Nächstes an?", "schrieb",
    ])  # fmt: skip
    health = _page(german, reverse("alerts:account-health", args=[customer.pk]))
    _assert_german(health, ["Health-Verlauf und Playbooks", "Playbook starten", "Eigene Bewertung"])


def test_reports_in_german(german, customer):
    html = _page(german, reverse("web:reports"))
    _assert_german(html, [
        "<h1>Team-Berichte</h1>", "Bericht anzeigen", "Kunden und Umsatz", "Stimme des Kunden", "Produktnutzung",
        "Zahlende Kunden", "Kundenabwanderung", "Netto-Umsatzbindung", "Onboarding-Trichter", "Letzte 12 Monate",
        "Vorzeitraum", "Dieser Zeitraum", "MRR-Bewegungen", "Portfolio von", "Drilldown",
    ])  # fmt: skip
    rows = _page(german, reverse("web:report-rows", args=["mrr"]) + "?start=2024-02-01&end=2024-03-01&scope=company")
    _assert_german(rows, ["Zeile", "MRR am Ende", "gesamtes Unternehmen"])


def test_tasks_in_german(german, customer):
    html = _page(german, reverse("web:tasks"))
    _assert_german(html, ["<h1>Meine Aufgaben</h1>", "Offen", "Erledigt", "Alle", "Fällig", "Überfällig", "Erledigen"])
    Task.objects.update(completed_at=NOW)
    html = _page(german, reverse("web:tasks"))
    _assert_german(html, ["Keine offenen Aufgaben. Gut gemacht!"])


def test_profile_in_german(german):
    html = _page(german, reverse("web:profile"))
    _assert_german(html, ["<h1>Profil & API</h1>", "Passwort ändern", "Kein API-Token vorhanden.", "Token erstellen"])
    response = german.post(reverse("web:token"), {"action": "create"}, follow=True)
    _assert_german(response.content.decode(), ["API-Token erstellt.", "Token erneuern", "Token widerrufen"])


def test_messages_and_form_errors_in_german(german, customer):
    response = german.post(reverse("web:note-create", args=[customer.pk]), {"body": "Called"}, follow=True)
    assert "Notiz hinzugefügt." in response.content.decode()
    response = german.get(reverse("web:reports"), {"start": "2024-03-01", "end": "2024-02-01", "scope": "company"})
    assert response.status_code == 400
    assert "Das Ende muss nach dem Beginn liegen." in response.content.decode()


def test_english_stays_the_default(client, csm, customer):
    client.force_login(csm)
    html = _page(client, reverse("web:portfolio"))
    assert '<html lang="en">' in html and "My customers" in html and "Meine Kunden" not in html


# --- The catalogue --------------------------------------------------------------------------


def _po_entries(text: str):
    """(flags, msgid, [msgstr…]) per entry of a .po file; obsolete (#~) entries left out."""
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields, current = {}, None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields and fields["msgid"]:
            yield flags, fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")]


def test_every_msgid_is_translated_and_none_is_fuzzy():
    entries = list(_po_entries(PO_FILE.read_text(encoding="utf-8")))
    assert len(entries) > 400
    untranslated = [msgid for _flags, msgid, strs in entries if not strs or not all(strs)]
    fuzzy = [msgid for flags, msgid, _strs in entries if "fuzzy" in flags]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_the_compiled_catalogue_is_current():
    """The committed .mo holds every translation of the .po (a fresh machine needs no gettext)."""
    import gettext

    with open(PO_FILE.with_suffix(".mo"), "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    compiled = {(k[0] if isinstance(k, tuple) else k).split("\x04")[-1] for k in catalogue._catalog}
    missing = []
    for _flags, msgid, _strs in _po_entries(PO_FILE.read_text(encoding="utf-8")):
        text = msgid.replace('\\"', '"').replace("\\n", "\n")
        if text not in compiled:
            missing.append(msgid)
    assert not missing, f"not in the .mo (run compilemessages): {missing}"
