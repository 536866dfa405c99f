"""Forms of the public survey page and the results filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lib.dates import validate_in_window
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
    survey_type = forms.ChoiceField(choices=SurveyType.choices, required=False, label=_("Survey type"))
    start = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_in_window]
    )
    end = forms.DateField(
        required=False, label=_("Before"), widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_in_window]
    )
    segment = forms.ChoiceField(required=False, label=_("Segment"))
    language = forms.ChoiceField(
        choices=[("", _("any")), ("de", _("German")), ("en", _("English"))], required=False, label=_("Language")
    )
    sentiment = forms.ChoiceField(
        choices=[("", _("any")), ("negative", _("negative")), ("neutral", _("neutral")), ("positive", _("positive"))],
        required=False,
        label=_("Sentiment"),
    )
    theme = forms.ChoiceField(choices=[("", _("any"))] + [(t, t) for t in THEME_CHOICES], required=False, label=_("Theme"))
    band = forms.ChoiceField(
        choices=[
            ("", _("any")),
            ("low", _("low (detractors)")),
            ("mid", _("middle (passives)")),
            ("high", _("high (promoters)")),
        ],
        required=False,
        label=_("Score band"),
    )
    granularity = forms.ChoiceField(
        choices=[("month", _("month")), ("week", _("week"))], required=False, label=_("Trend by")
    )

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("any"))] + [(s, s) for s in segments]


class ThemesForm(forms.Form):
    themes = forms.CharField(required=False, max_length=500, help_text=_("Comma-separated"))
