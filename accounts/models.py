"""Customer accounts and everything that belongs to them.

Customers, their contacts (the product's users), subscriptions (MRR over time as
half-open periods), usage events, support tickets, cost entries, leads, and the CSM's
own notes and tasks. Field meanings follow spec/import.md.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts import reporting_time

MONEY = {"max_digits": 18, "decimal_places": 6}


class Customer(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    segment = models.CharField(max_length=100, blank=True, db_index=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        help_text="The CSM who owns the account.",
    )
    assigned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_customers"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    created_on = models.DateField(null=True, blank=True, help_text="Date the customer signed up.")
    added_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()  # audit trail: who changed what, shown in admin

    class Meta:
        ordering = ["name"]
        indexes = [
            # The portfolio's default order (name, case-insensitive): its first page reads 25 index entries.
            models.Index(Lower("name"), "name", "id", name="customer_name_lower"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="customer_not_own_parent"),
        ]

    def __str__(self):
        return self.name


class ContactQuerySet(models.QuerySet):
    def known_at(self, instant):
        """Contacts csplatform knew at `instant`: first seen before it, or undated (known from the start).

        A score or feature as of a day counts only these, so data arriving later never
        changes a past figure (as-of purity)."""
        return self.filter(Q(first_seen_at__isnull=True) | Q(first_seen_at__lt=instant))


class Contact(models.Model):
    class Language(models.TextChoices):
        GERMAN = "de", "Deutsch"
        ENGLISH = "en", "English"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=100, help_text="The product's user id.")
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True, help_text="Never survey after this.")
    first_seen_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When csplatform first knew this user: its creation by an import, the API or admin, or its "
        "first event if earlier. Blank: known from the start.",
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "external_id"], name="contact_unique_per_customer"),
        ]

    def __str__(self):
        return self.name or self.email or self.external_id


def active_on(day) -> Q:
    """A subscription row active at the start of `day`: started_at <= day < ended_at (blank never ends)."""
    return Q(started_at__lte=day) & (Q(ended_at__isnull=True) | Q(ended_at__gt=day))


PAYING = Q(is_trial=False, mrr__gt=0)  # non-trial rows with a positive MRR


def paying_on(day) -> Q:
    """A subscription row paying at the start of `day`: active then and paying (a condition, e.g. for
    `Sum("mrr", filter=paying_on(day))`: one query for the MRR of many days)."""
    return active_on(day) & PAYING


class ChurnReason(models.Model):
    """Why MRR was lost: an editable list (admin) that a subscription's end or shrink points at."""

    code = models.SlugField(max_length=50, unique=True, help_text="Used in imports and the API.")
    label = models.CharField(max_length=100)
    label_de = models.CharField(max_length=100, blank=True, help_text="German label; blank: the label.")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Inactive reasons stay on old rows but are not offered.")

    class Meta:
        ordering = ["position", "label"]

    def __str__(self):
        return self.label

    def label_for(self, language: str | None) -> str:
        """The label in `language` ("de" or anything else for English)."""
        return self.label_de if language and language.startswith("de") and self.label_de else self.label


def renewal_on(started_at: datetime.date, ended_at: datetime.date | None, billing_period_months: int, day: datetime.date):
    """Return the next renewal of a subscription on or after `day`: its end when it has one, else the next
    billing-period boundary counted from its start (a running monthly plan renews every month, an annual one
    every year). None when it has ended before `day`."""
    if ended_at is not None:
        return ended_at if ended_at >= day else None
    months = max(billing_period_months, 1)
    if started_at > day:
        return _plus_months(started_at, months)
    elapsed = (day.year - started_at.year) * 12 + day.month - started_at.month
    periods = max(elapsed // months, 1)
    candidate = _plus_months(started_at, periods * months)
    while candidate < day:
        periods += 1
        candidate = _plus_months(started_at, periods * months)
    return candidate


def _plus_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved by whole months, on the last day of a shorter month (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))


class SubscriptionQuerySet(models.QuerySet):
    def active_at(self, day):
        """Rows active at the start of `day`: started_at <= day < ended_at (blank never ends)."""
        return self.filter(active_on(day))

    def paying(self):
        """Non-trial rows with a positive MRR."""
        return self.filter(PAYING)

    def paying_at(self, day):
        """Rows paying at the start of `day` (a date, or an OuterRef to one): active then and paying."""
        return self.filter(paying_on(day))

    def renewals_by_customer(self, day: datetime.date) -> dict[int, datetime.date]:
        """Return {customer id: the earliest next renewal on or after `day`} of these rows (see `renewal_on`)."""
        found: dict[int, datetime.date] = {}
        rows = self.values_list("customer_id", "started_at", "ended_at", "billing_period_months")
        for customer_id, started, ended, months in rows:  # one row per subscription; the date maths is per row
            on = renewal_on(started, ended, months, day)
            if on is not None and (customer_id not in found or on < found[customer_id]):
                found[customer_id] = on
        return found

    def mrr_by_customer(self) -> dict[int, Decimal]:
        """Return {customer id: Σ MRR} of these rows; with `paying_at(day)`, the paying MRR on that day."""
        mrr = defaultdict(Decimal)
        for customer_id, value in self.values_list("customer_id", "mrr"):  # a row per subscription, not per event
            mrr[customer_id] += value
        return dict(mrr)


class Subscription(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    external_id = models.CharField(max_length=100, blank=True)
    plan = models.CharField(max_length=100)
    started_at = models.DateField(help_text="First day the period covers.")
    ended_at = models.DateField(null=True, blank=True, help_text="First day no longer covered; blank: running.")
    mrr = models.DecimalField(**MONEY, help_text="Monthly recurring revenue in the reporting currency.")
    currency = models.CharField(max_length=3, help_text="Currency of the source row.")
    original_mrr = models.DecimalField(**MONEY, help_text="MRR in the source row's currency.")
    billing_period_months = models.PositiveSmallIntegerField(default=1)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    is_trial = models.BooleanField(default=False)
    end_reason = models.ForeignKey(
        ChurnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions",
        help_text="Why this row ended (churn) or was replaced by a smaller one (contraction).",
    )
    end_note = models.TextField(blank=True, max_length=2000)

    objects = SubscriptionQuerySet.as_manager()
    history = HistoricalRecords()  # audit trail: who changed what, shown in admin

    class Meta:
        ordering = ["customer", "started_at", "plan"]
        indexes = [models.Index(fields=["customer", "started_at"]), models.Index(fields=["started_at", "ended_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="subscription_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subscription_mrr_not_negative"),
            models.CheckConstraint(condition=Q(billing_period_months__gte=1), name="subscription_billing_period_positive"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="subscription_unique_external_id"
            ),
            models.UniqueConstraint(
                fields=["customer", "plan", "started_at"],
                condition=Q(external_id=""),
                name="subscription_unique_natural_key",
            ),
        ]

    def __str__(self):
        end = self.ended_at or "…"
        return f"{self.customer} · {self.plan} [{self.started_at}, {end})"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.started_at <= day and (self.ended_at is None or day < self.ended_at)

    def renewal_on(self, day: datetime.date) -> datetime.date | None:
        """The next renewal on or after `day`: the end date when there is one, else derived from the start and
        the billing period (see `renewal_on`)."""
        return renewal_on(self.started_at, self.ended_at, self.billing_period_months, day)


def renewal_of(subscription: Subscription, day: datetime.date | None = None) -> datetime.date | None:
    """Return the subscription's next renewal on or after `day` (default today); see Subscription.renewal_on."""
    return subscription.renewal_on(day or timezone.localdate())


class UsageEvent(models.Model):
    """One product event. Many millions of rows: keep this table narrow.

    On PostgreSQL the table is partitioned by month of `occurred_at` (migration 0008,
    lib.partitions): its primary key is (occurred_at, id), which serves the time-ordered
    lists (migration 0009; a BRIN index on id finds one row), and usage_event_unique_id is
    (customer, event_id, occurred_at) there. The foreign keys carry no database constraint:
    writers check references set-based (importing.events_pg) and Django cascades deletes.
    docs/scaling.md, "Event storage".
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    session_id = models.CharField(max_length=100, blank=True)
    event_id = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="The source's id of the event (Segment's messageId); blank: identical rows are one event.",
    )

    class Meta:
        constraints = [
            # The re-import key of events without an id: the same user doing the same thing at
            # the same instant is one event (a contact belongs to one customer, so the customer
            # adds nothing to the key; it leads so that the same index serves every read by
            # customer and time, the rollups' first). An event with an id is one event per id
            # and customer, so two identical clicks the source tells apart both count.
            models.UniqueConstraint(
                fields=["customer", "occurred_at", "contact", "event_type", "event_id"], name="usage_event_key"
            ),
            models.UniqueConstraint(
                fields=["customer", "event_id"], condition=~Q(event_id=""), name="usage_event_unique_id"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class Ticket(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tickets")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    contacts_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Customer contacts it took to resolve; 1 = first contact resolution."
    )
    channel = models.CharField(max_length=50, blank=True)
    priority = models.CharField(max_length=50, blank=True)
    subject = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["resolved_at"]), models.Index(fields=["customer", "opened_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="ticket_resolved_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=F("opened_at")),
                name="ticket_response_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(contacts_count__isnull=True) | Q(contacts_count__gte=1),
                name="ticket_contacts_count_positive",
            ),
        ]

    def __str__(self):
        return f"{self.external_id} {self.subject}".strip()

    @property
    def is_open(self):
        return self.resolved_at is None


class CostEntry(models.Model):
    class Category(models.TextChoices):
        CS_PAYROLL = "cs_payroll", "CS payroll"
        SUPPORT_PAYROLL = "support_payroll", "Support payroll"
        PROGRAMS = "programs", "Engagement and adoption programs"
        SERVICES_TRAINING = "services_training", "Services and training"
        CUSTOMER_MARKETING = "customer_marketing", "Customer marketing"
        ACQUISITION_MARKETING = "acquisition_marketing", "Acquisition marketing"
        SALES = "sales", "Sales"

    RETENTION = (
        Category.CS_PAYROLL,
        Category.SUPPORT_PAYROLL,
        Category.PROGRAMS,
        Category.SERVICES_TRAINING,
        Category.CUSTOMER_MARKETING,
    )
    ACQUISITION = (Category.ACQUISITION_MARKETING, Category.SALES)

    month = models.DateField(help_text="First day of the month.")
    category = models.CharField(max_length=40, choices=Category.choices)
    amount = models.DecimalField(**MONEY, help_text="In the reporting currency.")
    currency = models.CharField(max_length=3)
    original_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["-month", "category"]
        verbose_name_plural = "cost entries"
        constraints = [
            models.UniqueConstraint(fields=["month", "category"], name="cost_unique_month_category"),
            models.CheckConstraint(condition=Q(month__day=1), name="cost_month_is_first_day"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.get_category_display()}: {self.amount}"


class Lead(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    converted_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(converted_at__isnull=True) | Q(converted_at__gte=F("created_at")),
                name="lead_converted_after_created",
            ),
        ]

    def __str__(self):
        return self.external_id


class Note(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(max_length=10000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.body[:60]


class Task(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        SURVEY = "survey", "Survey follow-up"
        ALERT = "alert", "Alert"
        PLAYBOOK = "playbook", "Playbook"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, max_length=10000)
    due_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["completed_at", "due_on", "-created_at"]
        indexes = [models.Index(fields=["assignee", "completed_at"])]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.completed_at is None

    def is_overdue(self, today=None):
        today = today or reporting_time.today()
        return self.is_open and self.due_on is not None and self.due_on < today

