"""The Integrations page's form of one connection, built from `integrations.config.FIELDS`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations import config


class ConnectionForm(forms.Form):
    enabled = forms.BooleanField(label=_("Switched on"), required=False)

    def __init__(self, kind: str, *args, stored: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        stored = stored or {}
        for field in config.fields_of(kind):
            if field.secret:
                shown = config.masked(stored.get(field.name, ""))
                self.fields[field.name] = forms.CharField(
                    label=field.label, required=False, max_length=500, help_text=field.help,
                    widget=forms.PasswordInput(render_value=False, attrs={
                        "placeholder": _("set (%(end)s); blank keeps it") % {"end": shown} if shown else _("not set"),
                        "autocomplete": "off",
                    }),
                )  # fmt: skip
            else:
                self.fields[field.name] = forms.CharField(
                    label=field.label, required=False, max_length=500, help_text=field.help,
                    initial=stored.get(field.name, ""),
                )
