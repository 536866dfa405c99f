"""Churn model versions, their later backtests, and the daily churn probability of each customer.

A `ChurnModel` row is one trained model: its feature list, the dates it learned from
and was tested on, its coefficients and its held-out figures beside the health
score's. Rows are never edited except for their lifecycle (`status`, `published_at`,
`retired_at`), so a stored probability always points at the coefficients that made it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import MONEY, Customer


class ChurnModel(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    algorithm = models.CharField(max_length=40)
    feature_version = models.CharField(max_length=20)
    columns = models.JSONField(help_text="Design matrix columns: the features and their missing flags.")
    params = models.JSONField(help_text="The fitted model (fill values, means, scales, coefficients) per part.")
    horizon_days = models.PositiveSmallIntegerField(help_text="Label: not paying this many days after a date.")
    every_days = models.PositiveSmallIntegerField(help_text="Days between two dates of the training and test data.")
    seed = models.IntegerField()
    train_start = models.DateField()
    train_end = models.DateField()
    test_start = models.DateField()
    test_end = models.DateField()
    health_model_label = models.CharField(max_length=60, blank=True, help_text="The health score it was compared with.")
    evaluation = models.JSONField(help_text="Held-out figures of the model and the health score, same customer-dates.")
    qualifies = models.BooleanField(help_text="It beat the published health score on the held-out dates.")
    verdict = models.JSONField(default=list, help_text="Why it qualifies or not: one entry per condition.")
    trained_seconds = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="published"), name="churn_model_one_published"),
            models.CheckConstraint(condition=Q(train_end__lt=F("test_start")), name="churn_model_trained_before_tested"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(qualifies=True), name="churn_model_published_only_if_it_qualifies"
            ),
        ]

    def __str__(self):
        return f"Churn model v{self.version}"

    @property
    def label(self) -> str:
        return f"churn-v{self.version}"


class ChurnBacktest(models.Model):
    """A later look at a model version: its figures on dates whose outcome became known after training."""

    model = models.ForeignKey(ChurnModel, on_delete=models.CASCADE, related_name="backtests")
    start = models.DateField()
    end = models.DateField()
    evaluation = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model} backtest {self.start}–{self.end}"


class ChurnScore(models.Model):
    """A paying customer's churn probability at the start of one day by one model version; upserted daily."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    model = models.ForeignKey(ChurnModel, on_delete=models.PROTECT, related_name="scores")
    probability = models.DecimalField(max_digits=6, decimal_places=5, help_text="0–1: not paying within the horizon.")
    mrr = models.DecimalField(**MONEY, help_text="MRR at the start of the day; MRR at risk = probability × MRR.")
    drivers = models.JSONField(default=list, help_text="The features adding most to the risk, with their values.")
    term_ends_on = models.DateField(null=True, blank=True, help_text="The last current contract term's end.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        indexes = [models.Index(fields=["day", "customer"], name="churnscore_day_customer")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "model"], name="churn_score_unique"),
            models.CheckConstraint(condition=Q(probability__gte=0, probability__lte=1), name="churn_score_probability_0_1"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.day}: {self.probability}"
