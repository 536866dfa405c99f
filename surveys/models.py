"""Surveys (NPS, CSAT, CES), the personal invitations that ask for them, and the answers.

A `Survey` says what to ask and whom; a `SurveyInvitation` is one contact's personal,
single-use link; a `SurveyResponse` is one answer (imported ones have no invitation);
a `SurveySkip` records why a contact was not invited (fatigue rules, opt-out).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Contact, Customer, Task, Ticket
from surveys import scales
from surveys.tokens import sign


class SurveyType(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"
    CES = "ces", "CES (1–7)"


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    class Target(models.TextChoices):
        SEGMENT = "segment", "A customer segment"
        CONTACTS = "contacts", "A list of contacts"
        TRANSACTIONAL = "transactional", "Transactional: when a ticket is resolved"

    name = models.CharField(max_length=200)
    survey_type = models.CharField(max_length=4, choices=SurveyType.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    target = models.CharField(max_length=15, choices=Target.choices, default=Target.SEGMENT)
    target_segment = models.CharField(max_length=100, blank=True, help_text="For segment surveys; blank: every customer.")
    target_contacts = models.ManyToManyField(Contact, blank=True, related_name="+")
    question_en = models.CharField(max_length=300)
    question_de = models.CharField(max_length=300)
    follow_up_en = models.CharField(max_length=300, blank=True, help_text="Asked for a comment, whatever the score.")
    follow_up_de = models.CharField(max_length=300, blank=True)
    follow_up_low_en = models.CharField(
        max_length=300, blank=True, help_text="For low scores (NPS detractors, CSAT 1–2, CES 1–3); blank: the default."
    )
    follow_up_low_de = models.CharField(max_length=300, blank=True)
    follow_up_high_en = models.CharField(
        max_length=300, blank=True, help_text="For high scores (promoters, CSAT 4–5, CES 5–7); blank: the default."
    )
    follow_up_high_de = models.CharField(max_length=300, blank=True)
    valid_days = models.PositiveSmallIntegerField(default=14, help_text="Days an invitation link stays open.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def scale(self) -> range:
        low, high = scales.SCALES[self.survey_type]
        return range(low, high + 1)

    def question(self, language: str) -> str:
        return self.question_de if language == "de" else self.question_en

    def follow_up(self, language: str, score: int | None = None) -> str:
        """Return the follow-up question for `score`'s band, falling back to the default."""
        suffix = "de" if language == "de" else "en"
        if score is not None:
            band = scales.band(self.survey_type, score)
            if band in ("low", "high"):
                text = getattr(self, f"follow_up_{band}_{suffix}")
                if text:
                    return text
        return getattr(self, f"follow_up_{suffix}")


class SurveyInvitation(models.Model):
    """One contact's personal link to one survey; it works until `expires_at` and takes one answer."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="survey_invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_invitations")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # An email is claimed (`*sending_at`, a lease) before it goes out and confirmed (`*sent_at`)
    # after: a worker that dies in between leaves a lease that expires, and the email is retried.
    sending_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sending_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["contact", "created_at"]),
            models.Index(fields=["customer", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "contact"], condition=Q(ticket__isnull=True), name="invitation_once_per_contact"
            ),
            models.UniqueConstraint(
                fields=["survey", "ticket"], condition=Q(ticket__isnull=False), name="invitation_once_per_ticket"
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="invitation_expires_later"),
        ]

    def __str__(self):
        return f"{self.survey} → {self.contact}"

    def get_absolute_url(self):
        return reverse("surveys:answer", args=[sign(self.token)])


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", "Opted out of surveys"
    NO_EMAIL = "no_email", "No email address"
    RECENTLY_SURVEYED = "recently_surveyed", "Surveyed within the minimum days"
    CUSTOMER_QUOTA = "customer_quota", "Customer's quarterly contact limit reached"
    ALREADY_INVITED = "already_invited", "Already invited to this survey"


class SurveySkip(models.Model):
    """A contact a survey did not invite, and why."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="skips")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="survey_skips")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=20, choices=SkipReason.choices)
    skipped_at = models.DateTimeField()

    class Meta:
        ordering = ["-skipped_at"]

    def __str__(self):
        return f"{self.contact}: {self.get_reason_display()}"


class SurveyResponse(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    # One answer per invitation, enforced by the database: two submits racing leave one row.
    invitation = models.OneToOneField(
        SurveyInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    survey_type = models.CharField(max_length=4, choices=SurveyType.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=10000)
    responded_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Last time the contact changed the answer.")
    # Feedback analysis, done offline (surveys.analysis).
    language = models.CharField(max_length=2, blank=True, help_text="Detected language of the comment.")
    sentiment = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True, help_text="−1..1")
    themes = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    themes_corrected = models.BooleanField(default=False, help_text="A CSM set the themes; re-analysis keeps them.")
    themes_corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    analyzed_at = models.DateTimeField(null=True, blank=True)
    follow_up_task = models.OneToOneField(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_response"
    )

    class Meta:
        ordering = ["-responded_at"]
        indexes = [
            models.Index(fields=["survey_type", "responded_at"]),
            models.Index(fields=["customer", "responded_at"]),
            # The analysis backlog (`services.responses_analyze_pending`, every minute): only its rows.
            models.Index(fields=["id"], condition=Q(analyzed_at__isnull=True), name="survey_response_unanalysed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(survey_type="nps", score__gte=0, score__lte=10)
                | Q(survey_type="csat", score__gte=1, score__lte=5)
                | Q(survey_type="ces", score__gte=1, score__lte=7),
                name="survey_response_score_on_scale",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__isnull=True) | Q(sentiment__gte=-1, sentiment__lte=1),
                name="survey_response_sentiment_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_survey_type_display()} {self.score} · {self.customer}"

    @property
    def band(self) -> str:
        return scales.band(self.survey_type, self.score)

    @property
    def needs_follow_up(self) -> bool:
        """Detractors and dissatisfied CSAT answers (the low band of NPS and CSAT) get a follow-up task."""
        return self.survey_type in (SurveyType.NPS, SurveyType.CSAT) and self.band == "low"


class OptOut(Contact):
    """Contacts who opted out of surveys: a proxy so the admin can list them on their own."""

    class Meta:
        proxy = True
        verbose_name = "survey opt-out"
