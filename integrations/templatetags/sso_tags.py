"""The login page's single sign-on button and notes: `{% sso_login %}`."""

from django import template

from integrations import sso

register = template.Library()


@register.inclusion_tag("integrations/_sso_login.html", takes_context=True)
def sso_login(context):
    request = context.get("request")
    return {
        "configured": sso.configured(),
        "sso_only": sso.sso_only(),
        "failed": request is not None and request.GET.get("sso") == "failed",
        "next": context.get("next", ""),
    }
