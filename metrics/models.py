"""KPI snapshots and the usage rollups the KPI engine reads instead of raw events.

The rollups are derived data, rebuilt set-wise after every import: their foreign keys
carry no database constraint (Django still cascades deletes), which keeps the bulk
INSERT … SELECT free of per-row trigger checks.
"""

from django.db import models
from django.db.models import F, Q

from accounts.models import Contact, Customer


class KpiSnapshot(models.Model):
    """One KPI value for one scope and period, as a definition version computed it."""

    metric = models.CharField(max_length=60)
    scope = models.CharField(max_length=200, help_text='"company", "segment:SMB", "csm:alice" or "customer:42".')
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    numerator = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    denominator = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    definition_version = models.CharField(max_length=40)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_start", "metric", "scope"]
        indexes = [models.Index(fields=["scope", "metric", "period_start"])]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "scope", "period_start", "period_end", "definition_version"],
                name="kpi_snapshot_unique",
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="kpi_snapshot_period_valid"),
        ]

    def __str__(self):
        return f"{self.metric} {self.scope} [{self.period_start}, {self.period_end})"


class StaleRange(models.Model):
    """Days [start, end) whose data changed after snapshots may have been taken (late data).

    The next snapshot run recomputes every stored period that overlaps a range, then
    deletes the ranges it has handled.
    """

    start = models.DateField()
    end = models.DateField()
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="stale_range_valid")]

    def __str__(self):
        return f"[{self.start}, {self.end})"


class UserDayActivity(models.Model):
    """Rollup: one row per user per day (reporting time zone) with their event count."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    day = models.DateField()
    events = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "customer"], name="userday_day_customer")]
        constraints = [models.UniqueConstraint(fields=["customer", "day", "contact"], name="userday_unique")]


class CustomerDayFeature(models.Model):
    """Rollup: one row per customer, day and event type with its event count."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    day = models.DateField()
    event_type = models.CharField(max_length=100)
    events = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "event_type"], name="custfeature_day_type")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "event_type"], name="custfeature_unique")
        ]


class UsageSession(models.Model):
    """Rollup: a user's session, derived (30-minute gap) or given by the events' session_id."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    session_key = models.CharField(max_length=100, blank=True, help_text="The events' session_id; blank when derived.")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    # Integer microseconds keep sums exact on SQLite and PostgreSQL alike.
    duration_us = models.BigIntegerField(help_text="Last event minus first, in microseconds.")
    events = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["started_at", "customer"], name="session_start_customer"),
            models.Index(fields=["contact", "started_at"], name="session_contact_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gte=F("started_at")), name="session_ends_after_start")
        ]
