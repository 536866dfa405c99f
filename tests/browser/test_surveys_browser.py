"""The whole survey flow in a real Chromium: send, open, answer, change, reuse, CSM results.

Needs Debian's chromium at /usr/bin/chromium (apt-get install chromium). Without it these
tests fail, so CI cannot pass by skipping them; set CSP_SKIP_BROWSER=1 to skip locally.
"""

import re

import pytest
from django.conf import settings as django_settings
from django.core import mail

from accounts.models import Task
from surveys import services
from surveys.models import Survey, SurveyResponse
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory
from tests.browser.conftest import SCREENSHOTS
from tests.surveys_support import SurveyFactory

SHOTS = SCREENSHOTS  # a temp dir unless scripts/screenshots refreshes docs/screenshots on purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# `browser` is the session-wide Chromium of tests/browser/conftest.py.


def _page(browser, console, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.on("console", lambda m: console.append(m.text))
    return page


def _link(live_server, settings, contact, survey):
    settings.CSPLATFORM_BASE_URL = live_server.url
    mail.outbox.clear()
    services.survey_send(survey=survey)
    [message] = [m for m in mail.outbox if m.to == [contact.email]]
    return re.search(r"http://\S+/s/\S+/", message.body).group(0), message


def test_send_answer_change_reuse_and_see_it_as_a_csm(browser, live_server, settings, csm):
    SHOTS.mkdir(parents=True, exist_ok=True)
    console = []
    customer = CustomerFactory(name="Acme GmbH", owner=csm, segment="SMB")
    SubscriptionFactory(customer=customer, mrr=500)
    contact = ContactFactory(customer=customer, name="Jane Doe", language="en")
    survey = SurveyFactory(target_segment="SMB")
    link, message = _link(live_server, settings, contact, survey)
    assert "?score=10" in message.alternatives[0][0]

    page = _page(browser, console, viewport={"width": 800, "height": 760})
    page.goto(link + "?score=3")  # a one-click score link from the email
    assert page.locator("input[name=score]:checked").get_attribute("value") == "3"
    assert not SurveyResponse.objects.exists()  # opening a link records nothing
    assert page.locator("fieldset legend").inner_text().startswith("How likely")
    page.screenshot(path=str(SHOTS / "survey-page-en.png"), full_page=True)

    # Keyboard only: tab into the radio group, arrow to another score, type, submit.
    page.goto(link)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "score"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.checked") is True
    page.locator("label[for=score-4]").click()
    page.get_by_label("What is the main reason for your score?", exact=False).fill("Support is slow and the invoice was wrong.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/thanks/")
    assert page.locator(".answer .score").inner_text() == "4"
    page.screenshot(path=str(SHOTS / "survey-thanks.png"), full_page=True)

    # Change the answer within 24 hours.
    page.get_by_role("link", name="Change my answer").click()
    assert page.locator("input[name=score]:checked").get_attribute("value") == "4"
    page.locator("label[for=score-2]").click()
    page.get_by_role("button", name="Save my new answer").click()
    page.wait_for_url("**/thanks/")
    assert page.locator(".answer .score").inner_text() == "2"

    # Reusing the link shows the answer; there is still one response.
    page.goto(link)
    assert page.url.endswith("/thanks/")
    response = SurveyResponse.objects.get()
    assert response.score == 2 and response.language == "en" and response.follow_up_task.assignee == csm
    assert response.follow_up_task.source == Task.Source.SURVEY

    # A forged link reveals nothing.
    page.goto(link[:-3] + "xx/")
    assert "This link does not work" in page.content()

    # The German page (and a phone-sized viewport).
    german = ContactFactory(customer=CustomerFactory(segment="Enterprise"), name="Max Muster", language="de")
    de_survey = SurveyFactory(target=Survey.Target.CONTACTS)
    de_survey.target_contacts.add(german)
    de_link, _ = _link(live_server, settings, german, de_survey)
    phone = _page(browser, console, viewport={"width": 390, "height": 844}, device_scale_factor=1)
    phone.goto(de_link)
    assert phone.locator("html").get_attribute("lang") == "de"
    assert "Sehr unwahrscheinlich" in phone.content()
    phone.screenshot(path=str(SHOTS / "survey-page-de.png"), full_page=True)
    phone.locator("label[for=score-10]").click()
    phone.get_by_role("button", name="Senden").click()
    phone.wait_for_url("**/thanks/")
    assert "Vielen Dank!" in phone.content()

    # The CSM sees the response and its follow-up task.
    from django.test import Client

    client = Client()
    client.force_login(csm)
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    staff.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    results = staff.new_page()
    results.goto(live_server.url + "/s/results/")
    text = results.locator("main").inner_text()
    assert "Support is slow and the invoice was wrong." in text
    assert "Jane Doe" in text and "Acme GmbH" in text
    assert "Open\tFollow up: NPS 2 from Jane Doe" in text or "Open Follow up: NPS 2 from Jane Doe" in text
    assert "Too few responses" in text
    results.screenshot(path=str(SHOTS / "survey-results.png"), full_page=True)

    assert not [m for m in console if "Content Security Policy" in m], console
