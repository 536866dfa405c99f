"""factory_boy factories for every model: deterministic (fixed dates, sequences) and valid by default."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from accounts.models import Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from metrics.models import CustomerDayFeature, KpiSnapshot, StaleRange, UsageSession, UserDayActivity
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


class UsageSessionFactory(DjangoModelFactory):
    class Meta:
        model = UsageSession

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    started_at = EPOCH
    ended_at = EPOCH + datetime.timedelta(minutes=20)
    duration_us = 20 * 60 * 1_000_000
    events = 5
