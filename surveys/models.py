"""Survey answers (NPS, CSAT, CES) and, later, the surveys and invitations that ask for them."""

from django.db import models
from django.db.models import Q

from accounts.models import Contact, Customer


class SurveyType(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"
    CES = "ces", "CES (1–7)"


SCALES = {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}


class SurveyResponse(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    survey_type = models.CharField(max_length=4, choices=SurveyType.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=10000)
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at"]
        indexes = [
            models.Index(fields=["survey_type", "responded_at"]),
            models.Index(fields=["customer", "responded_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(survey_type="nps", score__gte=0, score__lte=10)
                | Q(survey_type="csat", score__gte=1, score__lte=5)
                | Q(survey_type="ces", score__gte=1, score__lte=7),
                name="survey_response_score_on_scale",
            ),
        ]

    def __str__(self):
        return f"{self.get_survey_type_display()} {self.score} · {self.customer}"
