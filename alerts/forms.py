"""Forms of the health and alert pages."""

from django import forms

from alerts.models import AlertRule, Playbook
from metrics.models import HealthModel


class BacktestForm(forms.Form):
    version = forms.ModelChoiceField(queryset=HealthModel.objects.all(), label="Model version")
    months = forms.IntegerField(min_value=3, max_value=24, initial=12, label="Monthly dates")


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "kind", "threshold", "send_email", "webhook", "playbook"]


class DryRunForm(forms.Form):
    weeks = forms.IntegerField(min_value=4, max_value=52, initial=26, label="Weeks back")


class PlaybookStartForm(forms.Form):
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(active=True), label="Playbook")


class CsmRatingForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[(i, str(i)) for i in range(1, 6)], coerce=int, label="Your rating (1–5)")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Why")
