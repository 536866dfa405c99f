"""The public survey page behind a personal link: no login, no JavaScript, a strict CSP.

A GET never records anything (mail scanners prefetch links): `?score=N` only preselects.
Forged, unknown and expired links all get the same page, which reveals nothing.
"""

from functools import wraps

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from surveys import services
from surveys.forms import AnswerForm
from surveys.tokens import unsign

CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
SCALE_ENDS = {
    "nps": (translation.gettext_noop("Not at all likely"), translation.gettext_noop("Extremely likely")),
    "csat": (translation.gettext_noop("Very dissatisfied"), translation.gettext_noop("Very satisfied")),
    "ces": (translation.gettext_noop("Very difficult"), translation.gettext_noop("Very easy")),
}


def public_page(view):
    """Rate-limit by IP, pick the language, send the strict CSP and never cache."""

    @ratelimit(group="surveys.public", key="ip", rate=lambda group, request: settings.CSPLATFORM_SURVEY_RATELIMIT, block=False)
    @wraps(view)
    def wrapper(request, signed, *args, **kwargs):
        invitation = services.invitation_for_token(unsign(signed))
        language = (invitation and invitation.contact.language) or translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            if getattr(request, "limited", False):
                response = render(request, "surveys/limited.html", status=429)
                response["Retry-After"] = "60"
            elif invitation is None:
                response = render(request, "surveys/invalid.html", status=404)
            else:
                response = view(request, signed, invitation, *args, **kwargs)
            response["Content-Language"] = request.LANGUAGE_CODE
        response["Content-Security-Policy"] = CSP
        return response

    return never_cache(wrapper)


def _context(invitation, signed, **extra):
    survey = invitation.survey
    lang = translation.get_language()
    low, high = SCALE_ENDS[survey.survey_type]
    return {
        "invitation": invitation,
        "survey": survey,
        "signed": signed,
        "question": survey.question(lang),
        "scale_low": translation.gettext(low),
        "scale_high": translation.gettext(high),
        **extra,
    }


@public_page
@require_http_methods(["GET", "POST"])
def answer(request, signed, invitation):
    now = timezone.now()
    response = services.response_of(invitation)
    if response is None and now >= invitation.expires_at:
        return render(request, "surveys/invalid.html", status=404)
    if response is not None and request.method == "GET" and "change" not in request.GET:
        return redirect("surveys:thanks", signed)
    changeable = response is None or services.can_change(response, now)
    if not changeable:
        return redirect("surveys:thanks", signed)
    lang = translation.get_language()
    if request.method == "POST":
        chosen = request.POST.get("score")
        form = AnswerForm(
            request.POST,
            scale=invitation.survey.scale,
            follow_up=invitation.survey.follow_up(lang, int(chosen) if (chosen or "").isdigit() else None),
        )
        if form.is_valid():
            services.response_record(
                invitation=invitation, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"], now=now
            )
            return redirect("surveys:thanks", signed)
    else:
        services.invitation_open(invitation=invitation, now=now)
        initial = {}
        if response is not None:
            initial = {"score": response.score, "comment": response.comment}
        elif (request.GET.get("score") or "").isdigit() and int(request.GET["score"]) in invitation.survey.scale:
            initial = {"score": int(request.GET["score"])}
        form = AnswerForm(initial=initial, scale=invitation.survey.scale, follow_up=invitation.survey.follow_up(lang, initial.get("score")))
    return render(request, "surveys/answer.html", _context(invitation, signed, form=form, response=response))


@public_page
@require_http_methods(["GET"])
def thanks(request, signed, invitation):
    response = services.response_of(invitation)
    if response is None:
        return redirect("surveys:answer", signed)
    context = _context(
        invitation,
        signed,
        response=response,
        changeable=services.can_change(response, timezone.now()),
        opted_out=invitation.contact.opted_out_at is not None,
    )
    return render(request, "surveys/thanks.html", context)


@public_page
@require_POST
def opt_out(request, signed, invitation):
    services.contact_opt_out(invitation=invitation)
    return render(request, "surveys/opted_out.html", _context(invitation, signed))
