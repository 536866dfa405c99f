"""The survey invitation email, in the contact's language, with one-click score links."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from surveys.models import SurveyInvitation


def contact_language(invitation: SurveyInvitation) -> str:
    return invitation.contact.language or settings.LANGUAGE_CODE


def invitation_message(invitation: SurveyInvitation, *, reminder: bool = False) -> EmailMultiAlternatives:
    """Return the email inviting (or reminding) the contact; its score links only open the page."""
    language = contact_language(invitation)
    url = settings.CSPLATFORM_BASE_URL.rstrip("/") + invitation.get_absolute_url()
    survey = invitation.survey
    with translation.override(language):
        context = {
            "invitation": invitation,
            "question": survey.question(language),
            "url": url,
            "scores": [(score, f"{url}?score={score}") for score in survey.scale],
            "reminder": reminder,
            "contact_name": invitation.contact.name,
            "LANGUAGE_CODE": language,
        }
        subject = _("Reminder: %(question)s") if reminder else _("%(question)s")
        message = EmailMultiAlternatives(
            subject=subject % {"question": context["question"]},
            body=render_to_string("surveys/email/invitation.txt", context),
            to=[invitation.contact.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string("surveys/email/invitation.html", context), "text/html")
    return message
