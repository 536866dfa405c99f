"""factory_boy factories for every model: deterministic (fixed dates, sequences) and valid by default."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from axes.models import AccessAttempt, AccessFailureLog
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from alerts.models import Alert, AlertRule, Playbook, PlaybookRun, PlaybookStep, Webhook, WebhookDelivery
from churn.models import ChurnBacktest, ChurnModel, ChurnScore
from integrations.models import ChatChannel, ChatDelivery, Connection, InboundEvent, Kind, ObjectVersion
from metrics.models import (
    CsmRating,
    CustomerDayFeature,
    CustomerMonthFeature,
    HealthModel,
    HealthScore,
    KpiSnapshot,
    QualityIssue,
    SnapshotVerification,
    StaleRange,
    UsageSession,
    UserDayActivity,
    UserMonthActivity,
)
from surveys.models import SurveyResponse

UTC = datetime.UTC
EPOCH = datetime.datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
START = datetime.date(2024, 1, 1)


def _month(n):
    """Return the first day of the n-th month after January 2020."""
    return datetime.date(2020 + n // 12, n % 12 + 1, 1)


class UserFactory(DjangoModelFactory):
    """A user; `UserFactory(role="csm")` adds them to that role's group."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-Secret-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n:05d}")
    segment = "SMB"
    country = "DE"
    created_on = START


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.Sequence(lambda n: f"U{n:05d}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")
    name = factory.Sequence(lambda n: f"Contact {n:05d}")
    language = Contact.Language.ENGLISH


class SubscriptionFactory(DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.Sequence(lambda n: f"S{n:05d}")
    plan = "Pro"
    started_at = START
    ended_at = None
    mrr = Decimal("100")
    currency = "EUR"
    original_mrr = factory.SelfAttribute("mrr")


class UsageEventFactory(DjangoModelFactory):
    class Meta:
        model = UsageEvent

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    event_type = "login"
    occurred_at = factory.Sequence(lambda n: EPOCH + datetime.timedelta(minutes=n))


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket

    external_id = factory.Sequence(lambda n: f"T{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    opened_at = EPOCH
    subject = factory.Sequence(lambda n: f"Question {n}")
    channel = "email"
    priority = "normal"


class CostEntryFactory(DjangoModelFactory):
    class Meta:
        model = CostEntry

    month = factory.Sequence(_month)
    category = CostEntry.Category.CS_PAYROLL
    amount = Decimal("1000")
    currency = "EUR"
    original_amount = factory.SelfAttribute("amount")


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = Lead

    external_id = factory.Sequence(lambda n: f"L{n:05d}")
    source = "webinar"
    created_at = EPOCH


class NoteFactory(DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    author = factory.SubFactory(UserFactory, role="csm")
    body = "Kick-off call went well."
    created_at = EPOCH


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SubFactory(UserFactory, role="csm")
    title = factory.Sequence(lambda n: f"Follow up {n}")
    due_on = datetime.date(2024, 2, 1)
    created_at = EPOCH


class SurveyResponseFactory(DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    survey_type = "nps"
    score = 9
    responded_at = EPOCH


class KpiSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = KpiSnapshot

    metric = "nps"
    scope = "company"
    period_start = factory.Sequence(_month)
    period_end = factory.Sequence(lambda n: _month(n + 1))
    value = Decimal("42")
    definition_version = "1"
    computed_at = EPOCH


class StaleRangeFactory(DjangoModelFactory):
    class Meta:
        model = StaleRange

    start = START
    end = datetime.date(2024, 1, 2)


class UserDayActivityFactory(DjangoModelFactory):
    class Meta:
        model = UserDayActivity

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    day = START
    events = 3


class CustomerDayFeatureFactory(DjangoModelFactory):
    class Meta:
        model = CustomerDayFeature

    customer = factory.SubFactory(CustomerFactory)
    day = START
    event_type = "login"
    events = 3


class UserMonthActivityFactory(DjangoModelFactory):
    """A user's month as `metrics.rollups` sums it from the day rollups (set the two consistently)."""

    class Meta:
        model = UserMonthActivity

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    month = START.replace(day=1)
    days = 1
    events = 3
    sessions = 1
    session_us = 600_000_000


class CustomerMonthFeatureFactory(DjangoModelFactory):
    class Meta:
        model = CustomerMonthFeature

    customer = factory.SubFactory(CustomerFactory)
    month = START.replace(day=1)
    event_type = "login"
    events = 3


class UsageSessionFactory(DjangoModelFactory):
    class Meta:
        model = UsageSession

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    started_at = EPOCH
    ended_at = EPOCH + datetime.timedelta(minutes=20)
    duration_us = 20 * 60 * 1_000_000
    events = 5


# --- health and churn models -----------------------------------------------------------


class HealthModelFactory(DjangoModelFactory):
    """A draft version of the all-segment health model with the spec's default weights."""

    class Meta:
        model = HealthModel

    version = factory.Sequence(lambda n: n + 1)
    weights = factory.LazyFunction(lambda: {"frequency": 25, "breadth": 20, "depth": 20, "sentiment": 15, "support": 10, "growth": 10})
    key_features = factory.LazyFunction(lambda: ["login"])


class HealthScoreFactory(DjangoModelFactory):
    class Meta:
        model = HealthScore

    customer = factory.SubFactory(CustomerFactory)
    day = START
    model = factory.SubFactory(HealthModelFactory)
    score = Decimal("72.5")
    band = "green"
    components = factory.LazyFunction(lambda: {"frequency": "80.0"})
    computed_at = EPOCH
    mrr = Decimal("100")
    mrr_before = Decimal("100")


class CsmRatingFactory(DjangoModelFactory):
    class Meta:
        model = CsmRating

    customer = factory.SubFactory(CustomerFactory)
    author = factory.SubFactory(UserFactory, role="csm")
    rating = 4
    comment = "Happy with the roll-out."
    created_at = EPOCH
    expires_on = datetime.date(2024, 3, 31)


class QualityIssueFactory(DjangoModelFactory):
    class Meta:
        model = QualityIssue

    rule = "mrr_jump"
    key = factory.Sequence(lambda n: f"customer-{n}")
    day = START
    customer = factory.SubFactory(CustomerFactory)
    detail = "MRR went from 100 to 10000"


class SnapshotVerificationFactory(DjangoModelFactory):
    class Meta:
        model = SnapshotVerification

    started_at = EPOCH
    finished_at = EPOCH + datetime.timedelta(minutes=2)
    checked = 10
    drift_count = 1
    drifts = factory.LazyFunction(
        lambda: [{"metric": "nps", "scope": "company", "period_start": "2024-01-01", "period_end": "2024-02-01",
                  "field": "value", "stored": "42", "live": "41"}]
    )  # fmt: skip


class ChurnModelFactory(DjangoModelFactory):
    """A draft churn model version (its coefficients are not fitted: `tests.churn_support.stored_model` fits one)."""

    class Meta:
        model = ChurnModel

    version = factory.Sequence(lambda n: n + 1)
    algorithm = "logistic"
    feature_version = "1"
    columns = factory.LazyFunction(lambda: ["active_days_per_user"])
    params = factory.LazyFunction(dict)
    horizon_days = 90
    every_days = 7
    seed = 0
    train_start = datetime.date(2023, 1, 1)
    train_end = datetime.date(2023, 6, 30)
    test_start = datetime.date(2023, 7, 1)
    test_end = datetime.date(2023, 12, 31)
    evaluation = factory.LazyFunction(dict)
    qualifies = False
    trained_seconds = 1.5


class ChurnBacktestFactory(DjangoModelFactory):
    class Meta:
        model = ChurnBacktest

    model = factory.SubFactory(ChurnModelFactory)
    start = START
    end = datetime.date(2024, 3, 31)
    evaluation = factory.LazyFunction(dict)


class ChurnScoreFactory(DjangoModelFactory):
    class Meta:
        model = ChurnScore

    customer = factory.SubFactory(CustomerFactory)
    day = START
    model = factory.SubFactory(ChurnModelFactory)
    probability = Decimal("0.25")
    mrr = Decimal("100")
    drivers = factory.LazyFunction(list)
    computed_at = EPOCH


# --- alerts, playbooks and webhooks ----------------------------------------------------


class WebhookFactory(DjangoModelFactory):
    class Meta:
        model = Webhook

    name = factory.Sequence(lambda n: f"Webhook {n}")
    url = "https://hooks.example.com/csplatform"
    secret = factory.Sequence(lambda n: f"whsec_{n:032d}")


class DeliveryLogFactory(DjangoModelFactory):
    """A message delivered at the first attempt (alerts.models.DeliveryLog: webhook and chat deliveries)."""

    class Meta:
        abstract = True

    event_type = "alert.fired"
    attempts = 1
    status_code = 200
    delivered_at = EPOCH


class WebhookDeliveryFactory(DeliveryLogFactory):
    class Meta:
        model = WebhookDelivery

    webhook = factory.SubFactory(WebhookFactory)
    message_id = factory.Sequence(lambda n: f"msg_{n:05d}")
    payload = factory.LazyFunction(lambda: {"alert": 1})


class PlaybookFactory(DjangoModelFactory):
    class Meta:
        model = Playbook

    name = factory.Sequence(lambda n: f"Playbook {n}")


class PlaybookStepFactory(DjangoModelFactory):
    class Meta:
        model = PlaybookStep

    playbook = factory.SubFactory(PlaybookFactory)
    position = factory.Sequence(lambda n: n)
    kind = PlaybookStep.Kind.TASK
    title = "Call the champion"
    days = 3


class AlertRuleFactory(DjangoModelFactory):
    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = AlertRule.Kind.SCORE_DROP
    threshold = 10


class AlertFactory(DjangoModelFactory):
    class Meta:
        model = Alert

    rule = factory.SubFactory(AlertRuleFactory)
    customer = factory.SubFactory(CustomerFactory)
    fired_on = START
    details = factory.LazyFunction(lambda: {"score": 40, "before": 60})


class PlaybookRunFactory(DjangoModelFactory):
    class Meta:
        model = PlaybookRun

    playbook = factory.SubFactory(PlaybookFactory)
    customer = factory.SubFactory(CustomerFactory)
    started_at = EPOCH


# --- integrations ----------------------------------------------------------------------


class ConnectionFactory(DjangoModelFactory):
    class Meta:
        model = Connection
        django_get_or_create = ["kind"]

    kind = Kind.SEGMENT
    options = factory.LazyFunction(lambda: {"source": "app"})
    secrets = factory.LazyFunction(lambda: {"write_key": "wk-0123456789"})


class InboundEventFactory(DjangoModelFactory):
    class Meta:
        model = InboundEvent

    kind = Kind.SEGMENT
    status = InboundEvent.Status.REFUSED
    event_type = "track"
    external_id = factory.Sequence(lambda n: f"msg-{n:05d}")
    error = "unknown user"
    payload = factory.LazyFunction(lambda: {"type": "track", "userId": "nobody"})
    remote_addr = "203.0.113.5"


class ChatChannelFactory(DjangoModelFactory):
    class Meta:
        model = ChatChannel

    name = factory.Sequence(lambda n: f"#cs-{n}")
    service = ChatChannel.Service.SLACK_WEBHOOK
    target = "https://hooks.slack.com/services/T000/B000/XXXX"


class ChatDeliveryFactory(DeliveryLogFactory):
    class Meta:
        model = ChatDelivery

    channel = factory.SubFactory(ChatChannelFactory)
    service = factory.SelfAttribute("channel.service")
    payload = factory.LazyFunction(lambda: {"text": "Acme: health score fell"})


class ObjectVersionFactory(DjangoModelFactory):
    class Meta:
        model = ObjectVersion

    kind = Kind.STRIPE
    object_id = factory.Sequence(lambda n: f"sub_{n:05d}")
    version_at = EPOCH


# --- third-party models with an admin (API tokens, login lockouts, beat schedules, 2FA) -


class TokenFactory(DjangoModelFactory):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"{n:040x}")


class AccessAttemptFactory(DjangoModelFactory):
    class Meta:
        model = AccessAttempt

    user_agent = "Mozilla/5.0"
    ip_address = "203.0.113.7"
    username = "mallory"
    http_accept = "text/html"
    path_info = "/accounts/login/"
    get_data = ""
    post_data = "username=mallory"
    failures_since_start = 3


class AccessFailureLogFactory(DjangoModelFactory):
    class Meta:
        model = AccessFailureLog

    user_agent = "Mozilla/5.0"
    ip_address = "203.0.113.7"
    username = "mallory"
    http_accept = "text/html"
    path_info = "/accounts/login/"


class IntervalScheduleFactory(DjangoModelFactory):
    class Meta:
        model = IntervalSchedule

    every = 10
    period = IntervalSchedule.MINUTES


class CrontabScheduleFactory(DjangoModelFactory):
    class Meta:
        model = CrontabSchedule

    minute = "0"
    hour = "6"


class SolarScheduleFactory(DjangoModelFactory):
    class Meta:
        model = SolarSchedule

    event = "sunrise"
    latitude = Decimal("52.52")
    longitude = Decimal("13.405")


class ClockedScheduleFactory(DjangoModelFactory):
    class Meta:
        model = ClockedSchedule

    clocked_time = EPOCH


class PeriodicTaskFactory(DjangoModelFactory):
    class Meta:
        model = PeriodicTask

    name = factory.Sequence(lambda n: f"periodic {n}")
    task = "metrics.snapshots_daily"
    interval = factory.SubFactory(IntervalScheduleFactory)


class TOTPDeviceFactory(DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "phone"
    confirmed = True
    key = "3132333435363738393031323334353637383930"
