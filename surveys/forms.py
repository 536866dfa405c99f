"""Forms of the public survey page and the results filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.analysis.themes import THEME_CHOICES
from surveys.models import SurveyType


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, error_messages={"required": _("Please choose a score.")})
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, scale: range, follow_up: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].choices = [(s, str(s)) for s in scale]
        self.fields["comment"].label = follow_up or _("Anything you would like to add?")


class ResultFiltersForm(forms.Form):
    survey_type = forms.ChoiceField(choices=SurveyType.choices, required=False, label="Survey type")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="Before", widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.ChoiceField(required=False)
    language = forms.ChoiceField(choices=[("", "any"), ("de", "German"), ("en", "English")], required=False)
    sentiment = forms.ChoiceField(
        choices=[("", "any"), ("negative", "negative"), ("neutral", "neutral"), ("positive", "positive")], required=False
    )
    theme = forms.ChoiceField(choices=[("", "any")] + [(t, t) for t in THEME_CHOICES], required=False)
    band = forms.ChoiceField(
        choices=[("", "any"), ("low", "low (detractors)"), ("mid", "middle (passives)"), ("high", "high (promoters)")],
        required=False,
        label="Score band",
    )
    granularity = forms.ChoiceField(choices=[("month", "month"), ("week", "week")], required=False, label="Trend by")

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", "any")] + [(s, s) for s in segments]


class ThemesForm(forms.Form):
    themes = forms.CharField(required=False, max_length=500, help_text="Comma-separated")
