"""KPI snapshots and stale ranges, the usage rollups the KPI engine reads instead of raw
events, and the health model: its versions, backtests, daily scores and CSM ratings.

The rollups are derived data, rebuilt set-wise after every import: their foreign keys
carry no database constraint (Django still cascades deletes), which keeps the bulk
INSERT … SELECT free of per-row trigger checks.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

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

    The next snapshot run recomputes every stored period that overlaps a range (the KPIs
    that read its input, metrics.catalogue), then deletes the ranges it has handled.
    `metrics.invalidation` decides the days.
    """

    start = models.DateField()
    end = models.DateField()
    input = models.CharField(
        max_length=40, blank=True, help_text="The kind of data that changed (metrics.catalogue.INPUTS); blank: any."
    )
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="stale_range_valid")]

    def __str__(self):
        return f"[{self.start}, {self.end})"


class SnapshotVerification(models.Model):
    """One run of `verify_snapshots`: stored snapshots recomputed live, and every figure that drifted."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    period_start = models.DateField(null=True, blank=True, help_text="Blank: from the first stored period.")
    period_end = models.DateField(null=True, blank=True, help_text="Blank: to the last stored period.")
    checked = models.PositiveIntegerField(help_text="Stored snapshots compared.")
    drift_count = models.PositiveIntegerField(help_text="Figures (value, numerator or denominator) that differ.")
    drifts = models.JSONField(default=list, blank=True, help_text="metric, scope, period, field, stored, live (first 1,000).")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.drift_count} drift(s) in {self.checked}"


class QualityIssue(models.Model):
    """A finding of the data-quality gate (metrics.quality): a period with it carries a warning until fixed or accepted."""

    rule = models.CharField(max_length=40, help_text="The check that found it (metrics.quality.CHECKS).")
    key = models.CharField(max_length=200, help_text="What the finding is about, unique within its check.")
    day = models.DateField(null=True, blank=True, help_text="The reporting day it concerns; its periods get the warning.")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    detail = models.CharField(max_length=300)
    found_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="An admin looked and keeps the data as it is.")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["rule", "-day"]
        indexes = [models.Index(fields=["day"], name="quality_issue_day")]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="quality_issue_unique")]

    def __str__(self):
        return f"{self.rule} {self.key}"


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
            # One customer's sessions of a month: a refresh's monthly rebuild, the engine for one customer.
            models.Index(fields=["customer", "started_at"], name="session_customer_start"),
            models.Index(fields=["contact", "started_at"], name="session_contact_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gte=F("started_at")), name="session_ends_after_start")
        ]


class UserMonthActivity(models.Model):
    """Rollup: one row per user per calendar month (reporting time zone), summed from the day rollups.

    The KPI engine reads it for the whole months of a period instead of the month's user
    days and sessions (metrics.selectors): active days, events, and the sessions starting
    in the month with their total duration.
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    month = models.DateField(help_text="The month's first day.")
    days = models.PositiveIntegerField(help_text="Days of the month with an event.")
    events = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField(help_text="Sessions starting in the month.")
    session_us = models.BigIntegerField(help_text="Their total duration, in microseconds.")

    class Meta:
        indexes = [models.Index(fields=["month", "customer"], name="usermonth_month_customer")]
        constraints = [models.UniqueConstraint(fields=["customer", "month", "contact"], name="usermonth_unique")]


class CustomerMonthFeature(models.Model):
    """Rollup: one row per customer, calendar month and event type with its event count (feature adoption)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    month = models.DateField(help_text="The month's first day.")
    event_type = models.CharField(max_length=100)
    events = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "event_type"], name="custmonthfeature_month_type")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "month", "event_type"], name="custmonthfeature_unique")
        ]


# --- Health score models, their versions and daily scores ------------------------------


class HealthModel(models.Model):
    """One immutable version of a health score definition (spec/kpis.md, Health score).

    Editing a model never changes a row: admin saves a new row with the next version
    (see metrics.health_versions). Only the lifecycle fields (`status`, `published_at`)
    change. A draft cannot score daily snapshots until an admin publishes it from the
    backtest page.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=100, default="Default")
    segment = models.CharField(max_length=100, blank=True, help_text="Blank: every segment without its own model.")
    version = models.PositiveIntegerField()
    weights = models.JSONField(help_text='Component weights, e.g. {"frequency": 25, …, "csm_rating": 0}.')
    target_active_days = models.PositiveSmallIntegerField(default=12)
    key_features = models.JSONField(default=list, blank=True, help_text="Event types; empty: all seen in the window.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()  # audit trail of the lifecycle fields (publish, retire)

    class Meta:
        ordering = ["segment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "version"], name="health_model_unique_version"),
            models.UniqueConstraint(
                fields=["segment"], condition=Q(status="published"), name="health_model_one_published_per_segment"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}" + (f" ({self.segment})" if self.segment else "")

    @property
    def label(self) -> str:
        """The definition version a score records, e.g. "health-v3" or "health-SMB-v2"."""
        return f"health-{self.segment}-v{self.version}" if self.segment else f"health-v{self.version}"


class HealthScore(models.Model):
    """A customer's health score on one day (start of day) by one model version; upserted daily."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    model = models.ForeignKey(HealthModel, on_delete=models.PROTECT, related_name="scores")
    score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    band = models.CharField(max_length=10, blank=True)
    components = models.JSONField(default=dict)
    computed_at = models.DateTimeField()
    # What the portfolio sorts, filters and sums on, stored with the score of the day and forgotten
    # with it when the data changes (metrics.receivers): MRR paying at the start of the day and
    # MRR_CHANGE_DAYS before (0 if none; NULL: not stored, the row is written again), and whether the
    # customer is a former one (had subscriptions, none active that day).
    mrr = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    mrr_before = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    former = models.BooleanField(default=False)
    last_activity_on = models.DateField(null=True, blank=True)  # the last active user day up to `day`; NULL: never

    class Meta:
        ordering = ["-day"]
        indexes = [
            models.Index(fields=["day", "customer"], name="healthscore_day_customer"),
            # The portfolio's orders by stored figure (ties by name): read in order, cut after a page;
            # and its totals: the day's rows read from the index alone.
            models.Index(fields=["day", "model", "mrr", "customer"], name="healthscore_day_mrr"),
            models.Index(fields=["day", "model", "score", "customer"], name="healthscore_day_score"),
            models.Index(F("day"), F("model"), F("mrr") - F("mrr_before"), F("customer"), name="healthscore_day_change"),
            models.Index(fields=["day", "model", "customer", "band", "mrr", "former"], name="healthscore_day_totals"),
            models.Index(fields=["day", "model", "last_activity_on", "customer"], name="healthscore_day_activity"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "model"], name="health_score_unique"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.day}: {self.score}"


class PortfolioTally(models.Model):
    """The complete stored health rows (`HealthScore` with `mrr` set) counted by day, model, customer owner,
    segment, band and former flag: the portfolio's totals read from a few rows instead of a pass over
    every customer. Kept by database triggers (migration 0009) in the transaction of every write of a
    health row and of every change of a customer's owner or segment; never written from Python."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    model_id = models.BigIntegerField()  # the HealthModel's id (no foreign key: the triggers write it)
    owner_key = models.BigIntegerField()  # the customer's owner's id, 0 for none
    segment = models.CharField(max_length=100, blank=True)
    band = models.CharField(max_length=10, blank=True)
    former = models.BooleanField()
    customers = models.IntegerField()
    paying = models.IntegerField()  # rows with mrr > 0
    mrr = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "model_id", "owner_key", "segment", "band", "former"], name="portfolio_tally_key"
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.owner_key} {self.segment} {self.band}: {self.customers}"


class PortfolioCustomerTally(models.Model):
    """The customers counted by owner and segment (kept by triggers like `PortfolioTally`): how many of a
    portfolio's customers have no stored row of the day yet, and the segments of the filter form."""

    id = models.BigAutoField(primary_key=True)
    owner_key = models.BigIntegerField()  # the owner's id, 0 for none
    segment = models.CharField(max_length=100, blank=True)
    customers = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_key", "segment"], name="portfolio_customer_tally_key")]

    def __str__(self):
        return f"{self.owner_key} {self.segment}: {self.customers}"


class PortfolioFigure(models.Model):
    """A customer's current open tasks, open tickets and latest NPS answer beside its name: the portfolio's
    sorts by those figures read this table in the order of an index and stop after a page (ties by name,
    as on the page) instead of computing the figure for every customer. Kept by database triggers
    (migration 0010) on every write of a task, a ticket, a survey answer and a customer's name."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="+")
    name_lower = models.CharField(max_length=200)  # the database's lower(name): the page's tie order
    name = models.CharField(max_length=200)
    open_tasks = models.IntegerField(default=0)
    open_tickets = models.IntegerField(default=0)
    latest_nps = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(F("open_tasks").desc(), "name_lower", "name", "customer", name="portfoliofigure_tasks"),
            models.Index(F("open_tickets").desc(), "name_lower", "name", "customer", name="portfoliofigure_tickets"),
            models.Index("latest_nps", "name_lower", "name", "customer", name="portfoliofigure_nps"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.open_tasks} tasks, {self.open_tickets} tickets, NPS {self.latest_nps}"


class CsmRating(models.Model):
    """A CSM's own sentiment rating of a customer (1–5) with a comment; counts for 90 days."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=2000)
    created_at = models.DateTimeField()
    expires_on = models.DateField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="csm_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.rating}/5"


class BacktestRun(models.Model):
    """A stored backtest of one model version over past dates: what an admin saw before publishing."""

    model = models.ForeignKey(HealthModel, on_delete=models.CASCADE, related_name="backtests")
    dates = models.JSONField(help_text="ISO dates scored.")
    result = models.JSONField()
    auc = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model} backtest {self.created_at:%Y-%m-%d}"
