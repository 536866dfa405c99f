"""Forms of the health and alert pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import AlertRule, Playbook
from metrics.models import HealthModel


class BacktestForm(forms.Form):
    version = forms.ModelChoiceField(queryset=HealthModel.objects.all(), label=_("Model version"))
    months = forms.IntegerField(min_value=3, max_value=24, initial=12, label=_("Monthly dates"))


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "kind", "threshold", "send_email", "webhook", "playbook"]
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "threshold": _("Threshold"),
            "send_email": _("Send email"),
            "webhook": _("Webhook"),
            "playbook": _("Playbook"),
        }
        help_texts = {
            "threshold": _("N of the rule (points, %, days); unused otherwise."),
            "send_email": _("Email the owner CSM when it fires."),
        }


class DryRunForm(forms.Form):
    weeks = forms.IntegerField(min_value=4, max_value=52, initial=26, label=_("Weeks back"))


class PlaybookStartForm(forms.Form):
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(active=True), label=_("Playbook"))


class CsmRatingForm(forms.Form):
    # No preselected score: one click on "Save" must not record the worst rating by accident.
    rating = forms.TypedChoiceField(
        choices=[("", _("Choose…")), *((i, str(i)) for i in range(1, 6))], coerce=int, empty_value=None,
        label=_("Your rating (1–5)"),
    )  # fmt: skip
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Why"))
