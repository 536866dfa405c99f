"""Forms of the CSM screens: portfolio filters, report period and scope, notes and tasks."""

import datetime
from dataclasses import dataclass

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import policy
from accounts.models import ChurnReason, Note, Subscription, Task
from lib.dates import validate_in_window
from metrics import kpis
from metrics.periods import Period, add_months
from web import selectors
from web.kpi_display import BAND_LABELS

SORT_CHOICES = [
    ("name", _("Name (A–Z)")),
    ("health", _("Health (lowest first)")),
    ("-health", _("Health (highest first)")),
    ("-mrr", _("MRR (highest first)")),
    ("mrr_change", _("MRR change (biggest drop first)")),
    ("renewal", _("Renewal (soonest first)")),
    ("last_activity", _("Last activity (oldest first)")),
    ("-open_tickets", _("Open tickets (most first)")),
    ("nps", _("NPS (lowest first)")),
    ("-open_tasks", _("Open tasks (most first)")),
    ("-churn", _("Churn risk (highest first)")),
]
SORT_VALUES = {value for value, _label in SORT_CHOICES} | {
    "-name", "-mrr_change", "-renewal", "-last_activity", "open_tickets", "-nps", "open_tasks", "mrr", "churn",
}  # fmt: skip
BAND_CHOICES = [
    ("", _("Any health")),
    *((band, BAND_LABELS[band]) for band in reversed(kpis.HEALTH_BANDS)),  # at risk first
    ("none", BAND_LABELS[None]),
]
STATUS_CHOICES = [
    ("", _("Current customers")),
    ("former", _("Former customers")),
    ("all", _("All customers")),
]
RENEWAL_CHOICES = [
    ("", _("Any renewal")),
    ("30", _("Renews within 30 days")),
    ("90", _("Renews within 90 days")),
    ("180", _("Renews within 180 days")),
    ("365", _("Renews within a year")),
]


class AsOfForm(forms.Form):
    """`?as_of=YYYY-MM-DD`: the one parser of the day a past view shows (today or earlier)."""

    as_of = forms.DateField(
        label=_("As of"), required=False, input_formats=["%Y-%m-%d"], validators=[validate_in_window],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD, e.g. 2024-03-01.")},
    )  # fmt: skip

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["as_of"].widget.attrs["max"] = today.isoformat()

    def clean_as_of(self):
        day = self.cleaned_data.get("as_of")
        if day and day > self.today:
            raise forms.ValidationError(
                _("%(day)s is in the future: pick today or an earlier day."), params={"day": day.isoformat()}
            )
        return day


@dataclass(frozen=True)
class AsOf:
    """The day a page shows: a valid past `as_of`, otherwise today (with the form's error, if any)."""

    day: datetime.date
    today: datetime.date
    form: AsOfForm

    @property
    def past(self) -> bool:
        return self.day < self.today

    @property
    def param(self) -> str:
        """The value links carry on: the past day, or "" for today's view."""
        return self.day.isoformat() if self.past else ""

    @property
    def query(self) -> str:
        """"?as_of=…" to append to a URL without other parameters, or ""."""
        return f"?as_of={self.param}" if self.past else ""

    @property
    def error(self) -> str:
        return " ".join(self.form.errors.get("as_of", []))


def as_of_for(request, today: datetime.date | None = None) -> AsOf:
    """Parse the request's `as_of`; a bad or future date falls back to today and keeps its error."""
    today = today or selectors.today()
    form = AsOfForm({"as_of": request.GET.get("as_of", "")}, today=today)
    day = form.cleaned_data.get("as_of") if form.is_valid() else None
    return AsOf(day=day or today, today=today, form=form)


class PortfolioFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    band = forms.ChoiceField(label=_("Health"), required=False, choices=BAND_CHOICES)
    renewal = forms.ChoiceField(label=_("Renewal"), required=False, choices=RENEWAL_CHOICES)
    csm = forms.ChoiceField(label=_("CSM"), required=False)
    sort = forms.CharField(label=_("Sort by"), required=False)

    def __init__(self, *args, segments=(), csms=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All segments"))] + [(s, s) for s in segments]
        self.fields["sort"].widget = forms.Select(choices=SORT_CHOICES)
        if csms is None:
            del self.fields["csm"]
        else:
            self.fields["csm"].choices = [("", _("Whole team"))] + [
                (u.get_username(), u.get_full_name() or u.get_username()) for u in csms
            ]

    def clean_sort(self):
        sort = self.cleaned_data.get("sort") or "name"
        return sort if sort in SORT_VALUES else "name"

    def filters(self) -> selectors.PortfolioFilters:
        data = self.cleaned_data if self.is_valid() else {}
        renewal = data.get("renewal")
        return selectors.PortfolioFilters(
            q=(data.get("q") or "").strip(),
            segment=data.get("segment") or "",
            status=data.get("status") or "",
            band=data.get("band") or "",
            renewal_days=int(renewal) if renewal else None,
            csm=data.get("csm") or "",
            sort=data.get("sort") or "name",
        )


class ReportForm(forms.Form):
    """A period (a month, or start and end) and a scope label."""

    month = forms.CharField(
        label=_("Month"), required=False, widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("Pick a month, or give start and end below."),
    )  # fmt: skip
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_in_window]
    )
    end = forms.DateField(
        label=_("Until (exclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_in_window],
    )  # fmt: skip
    scope = forms.ChoiceField(label=_("Scope"), required=False)

    def __init__(self, *args, user, at: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.at = at  # the default period is the last full month before this day (default today)
        self.fields["scope"].choices = [
            (group, choices) if group else choices[0] for group, choices in selectors.report_scope_choices(user)
        ]

    def clean_month(self):
        value = self.cleaned_data.get("month")
        if not value:
            return None
        try:
            month = datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None
        validate_in_window(month)
        return month

    def clean(self):
        data = super().clean()
        start, end, month = data.get("start"), data.get("end"), data.get("month")
        if start and end:
            if start >= end:
                self.add_error("end", _("The end must be after the start."))
            elif (end - start).days > 366 * 5:
                self.add_error("end", _("A report spans at most five years."))
            else:
                data["period"] = Period(start, end)
        elif month:
            data["period"] = Period(month, add_months(month, 1))
        else:
            data["period"] = selectors.default_report_period(self.at)
        try:
            data["scope_obj"] = selectors.report_scope_for(self.user, data.get("scope") or "company")
        except ValueError:
            self.add_error("scope", _("Choose a scope you may see."))
        return data


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["body"]
        labels = {"body": _("Note")}
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "placeholder": _("What happened? What's next?")})}


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "due_on", "details"]
        labels = {"title": _("Task"), "due_on": _("Due on"), "details": _("Details")}
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "details": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_due_on(self):
        due_on = self.cleaned_data.get("due_on")
        validate_in_window(due_on)
        return due_on


class EndReasonForm(forms.ModelForm):
    """Why a subscription ended or shrank: a reason of the editable list and a note."""

    class Meta:
        model = Subscription
        fields = ["end_reason", "end_note"]
        labels = {"end_reason": _("Reason"), "end_note": _("Note")}
        widgets = {"end_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = ChurnReason.objects.filter(active=True)
        if self.instance.end_reason_id:
            reasons = reasons | ChurnReason.objects.filter(pk=self.instance.end_reason_id)  # an inactive one stays
        self.fields["end_reason"].queryset = reasons.distinct()
        self.fields["end_reason"].label_from_instance = lambda r: r.label_for(translation.get_language())
        self.fields["end_reason"].empty_label = _("No reason given")
        self.prefix = f"sub{self.instance.pk}"


class ScopeMonthsForm(forms.Form):
    """A scope label (company, segment, CSM) and a span of months ending with a month, for the revenue pages."""

    scope = forms.ChoiceField(label=_("Scope"), required=False)
    until = forms.CharField(label=_("Last month"), required=False, widget=forms.DateInput(attrs={"type": "month"}))
    months = forms.TypedChoiceField(
        label=_("Months"), required=False, coerce=int, empty_value=12,
        choices=[(6, "6"), (12, "12"), (18, "18"), (24, "24")],
    )  # fmt: skip

    def __init__(self, *args, user, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.today = user, today
        self.fields["scope"].choices = [
            (group, choices) if group else choices[0] for group, choices in selectors.report_scope_choices(user)
        ]
        self.fields["until"].widget.attrs["max"] = today.strftime("%Y-%m")
        self.fields["until"].initial = today.strftime("%Y-%m")

    def clean_until(self):
        value = self.cleaned_data.get("until")
        if not value:
            return self.today.replace(day=1)
        try:
            month = datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None
        return min(month, self.today.replace(day=1))

    def clean(self):
        data = super().clean()
        try:
            data["scope_obj"] = selectors.report_scope_for(self.user, data.get("scope") or "company")
        except ValueError:
            self.add_error("scope", _("Choose a scope you may see."))
        return data

    def values(self):
        """(scope, last month, months) of a valid form, else the defaults: company (or one's own), this month, 12."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return data["scope_obj"], data["until"], data["months"] or 12
        default = "company" if policy.sees_all_customers(self.user) else f"csm:{self.user.get_username()}"
        return selectors.report_scope_for(self.user, default), self.today.replace(day=1), 12


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["until"].widget.attrs["min"] = (today + datetime.timedelta(days=1)).isoformat()
        self.fields["until"].initial = today + datetime.timedelta(days=7)

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= self.today:
            raise forms.ValidationError(_("Pick a day after today."))
        if until > self.today + datetime.timedelta(days=366):
            raise forms.ValidationError(_("Snooze for a year at most."))
        return until


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("What was done"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
