"""The record kinds of spec/import.md for accounts' models: their columns, per-row rules and keys.

Usage events, which come by the million, live in `events.py`; survey responses in
`surveys/imports.py`, registered by surveys.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import ChurnReason, Contact, CostEntry, Customer, Lead, Subscription, Ticket
from accounts.roles import CSM
from importing.base import RecordKind, Row, chunks, max_length
from importing.lookups import CustomerIds
from importing.parsing import (
    CellError,
    as_utc_start,
    parse_bool,
    parse_country,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_line,
    parse_int,
    parse_month,
    to_reporting_currency,
)

MONEY_LIMIT = Decimal(10) ** 12  # MONEY fields hold 12 digits before the point
MONEY_STEP = Decimal("0.000001")  # ... and 6 after it
INT_LIMIT = 2**31 - 1  # PositiveIntegerField on PostgreSQL
SMALL_INT_LIMIT = 2**15 - 1  # PositiveSmallIntegerField


def money(row: Row, amount_column: str, currency_column="currency"):
    """Return (amount in the reporting currency, original amount, currency) of `row`, or Nones."""
    original = row.get(amount_column, parse_decimal, required=True)
    currency = row.get(currency_column, parse_currency) or settings.CSPLATFORM_REPORTING_CURRENCY
    if original is None:
        return None, None, currency
    if abs(original) >= MONEY_LIMIT:
        row.error(amount_column, f"{original} is too large")
        return None, None, currency
    if original != original.quantize(MONEY_STEP):  # 1e-30 would be stored as 0 without a word
        row.error(amount_column, f"{original} has more than 6 decimal places; amounts are stored to {MONEY_STEP}")
        return None, None, currency
    try:
        converted = to_reporting_currency(original, currency)
    except CellError as exc:
        row.error(currency_column, exc.message)
        return None, None, currency
    if original and not converted:
        row.error(amount_column, f"{original} {currency} is less than {MONEY_STEP} in the reporting currency")
        return None, None, currency
    return converted, original, currency


def not_before(row: Row, column, value, earlier_column, earlier, *, strictly=False):
    """Record an error unless `value` comes after `earlier` (or equals it, unless `strictly`)."""
    if value is None or earlier is None:
        return
    if value < earlier or (strictly and value == earlier):
        relation = "must be after" if strictly else "must not be before"
        row.error(column, f"{relation} {earlier_column} ({row.get(earlier_column)})")


def positive_int(row: Row, column, *, minimum, maximum=INT_LIMIT):
    value = row.get(column, parse_int)
    if value is not None and value < minimum:
        row.error(column, f"{value} is too small; it must be {minimum} or more")
        return None
    if value is not None and value > maximum:
        row.error(column, f"{value} is too large; it must be {maximum} or less")
        return None
    return value


class CustomerRefKind(RecordKind):
    """A kind whose rows name a customer by external id."""

    def __init__(self, run):
        super().__init__(run)
        self.customers = CustomerIds()

    def prepare(self, rows):
        column = "customer_external_id"
        if column in self.run.index:
            i = self.run.index[column]
            self.customers.load(row.cells[i].strip() for row in rows)


class ExternalIdKeyMixin:
    """Rows keyed by their unique `external_id`."""

    def key(self, values):
        return (values["external_id"],)

    def find_existing(self, keyed):
        found = {}
        for chunk in chunks(k[0] for k in keyed):
            rows = self.model.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
            found.update(((e,), pk) for e, pk in rows)
        return found


@dataclass(frozen=True)
class NewCsm:
    """An owner a row names whom the app does not know yet: created when the row is written."""

    username: str


class Customers(ExternalIdKeyMixin, RecordKind):
    name = "customers"
    model = Customer
    required = ("external_id", "name")
    optional = ("segment", "country", "csm", "created_at")
    field_sources = {
        "external_id": (),
        "name": (),
        "segment": ("segment",),
        "country": ("country",),
        "owner_id": ("csm",),
        "created_on": ("created_at",),
    }

    def __init__(self, run):
        super().__init__(run)
        self._users = None

    def user_id(self, text):
        """Return the id of the user with this username, else with this email (any case)."""
        if self._users is None:
            self._users = {}
            by_email: dict[str, set[int]] = {}
            for pk, username, email in get_user_model().objects.values_list("pk", "username", "email"):
                self._users[username] = pk
                if email:
                    by_email.setdefault(email.lower(), set()).add(pk)
            self._by_email = by_email
        if text in self._users:
            return self._users[text]
        matches = self._by_email.get(text.lower(), set())
        if len(matches) == 1:
            return next(iter(matches))
        if matches:
            raise CellError(f'several users have the email "{text}"; use the username')
        return self._new_csm(text)

    def _new_csm(self, text):
        """Name a CSM login for an owner the file names but the app does not know yet.

        The account keeps its owner instead of the row failing; the user has no usable
        password until an admin sets one. Only a row that is written creates it (`resolve`,
        inside the import's transaction), so a refused row or file, a dry run or a refused
        REST write creates nobody.
        """
        if len(text) > 150 or not re.fullmatch(r"[\w.@+-]+", text):
            raise CellError(f'"{text}" is not a username or email of a user, and cannot be made one')
        return NewCsm(text)

    def resolve(self, values):
        owner = values.get("owner_id")
        if not isinstance(owner, NewCsm):
            return values
        known = self._users.get(owner.username) if self._users is not None else None
        if not isinstance(known, int):
            user, created = get_user_model().objects.get_or_create(
                username=owner.username, defaults={"email": owner.username if "@" in owner.username else ""}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get_or_create(name=CSM)[0])
            known = user.pk
            if self._users is not None:
                self._users[owner.username] = known
        return {**values, "owner_id": known}

    def parse(self, row):
        return {
            "external_id": row.get("external_id", required=True, max_length=max_length(Customer, "external_id")),
            "name": row.get("name", parse_line, required=True, max_length=max_length(Customer, "name")),
            "segment": row.get("segment", parse_line, max_length=max_length(Customer, "segment")) or "",
            "country": row.get("country", parse_country) or "",
            "owner_id": row.get("csm", self.user_id),
            "created_on": row.get("created_at", parse_date),
        }

    def touch(self, obj):
        self.result.touch(obj.pk, as_utc_start(obj.created_on) if obj.created_on else None)


class Contacts(CustomerRefKind):
    name = "contacts"
    model = Contact
    required = ("customer_external_id", "external_id")
    optional = ("email", "name", "role", "language")
    field_sources = {
        "customer_id": (),
        "external_id": (),
        "email": ("email",),
        "name": ("name",),
        "role": ("role",),
        "language": ("language",),
    }

    @staticmethod
    def _email(text):
        try:
            validate_email(text)
        except ValidationError:
            raise CellError(f'"{text}" is not an email address') from None
        return text

    @staticmethod
    def _language(text):
        if text.lower() in Contact.Language.values:
            return text.lower()
        raise CellError(f'"{text}" is not a survey language (use de or en)')

    def parse(self, row):
        return {
            "customer_id": self.customers.resolve(row),
            "external_id": row.get("external_id", required=True, max_length=max_length(Contact, "external_id")),
            "email": row.get("email", self._email, max_length=max_length(Contact, "email")) or "",
            "name": row.get("name", max_length=max_length(Contact, "name")) or "",
            "role": row.get("role", max_length=max_length(Contact, "role")) or "",
            "language": row.get("language", self._language) or "",
            "first_seen_at": self.run.started_at,  # for new contacts only: not among the update fields
        }

    def key(self, values):
        return (values["customer_id"], values["external_id"])

    def find_existing(self, keyed):
        customer_ids = {k[0] for k in keyed}
        found = {}
        for chunk in chunks(k[1] for k in keyed):
            rows = Contact.objects.filter(customer_id__in=customer_ids, external_id__in=chunk)
            found.update(((c, e), pk) for c, e, pk in rows.values_list("customer_id", "external_id", "pk"))
        return found


class Subscriptions(CustomerRefKind):
    name = "subscriptions"
    model = Subscription
    required = ("customer_external_id", "plan", "started_at", "mrr")
    optional = (
        "external_id", "ended_at", "currency", "billing_period_months", "quantity", "is_trial", "end_reason", "end_note",
    )  # fmt: skip
    field_sources = {
        "customer_id": (),
        "external_id": (),
        "plan": (),
        "started_at": (),
        "ended_at": ("ended_at",),
        "mrr": (),
        "original_mrr": (),
        "currency": (),
        "billing_period_months": ("billing_period_months",),
        "quantity": ("quantity",),
        "is_trial": (),  # derived from mrr when the column is blank
        "end_reason_id": ("end_reason",),
        "end_note": ("end_note",),
    }
    key_column = "started_at"

    def __init__(self, run):
        super().__init__(run)
        self._reasons = None

    def _reason(self, text: str) -> int:
        """The id of the churn reason named by its code or label (case-insensitive)."""
        if self._reasons is None:
            self._reasons = {}
            for pk, code, label in ChurnReason.objects.values_list("pk", "code", "label"):
                self._reasons[code.lower()] = self._reasons[label.lower()] = pk
        found = self._reasons.get(text.lower())
        if found is None:
            known = ", ".join(sorted(ChurnReason.objects.values_list("code", flat=True)))
            raise CellError(f'"{text}" is not a churn reason; known codes: {known}')
        return found

    def parse(self, row):
        started = row.get("started_at", parse_date, required=True)
        ended = row.get("ended_at", parse_date)
        not_before(row, "ended_at", ended, "started_at", started, strictly=True)
        mrr, original, currency = money(row, "mrr")
        if original is not None and original < 0:
            row.error("mrr", f"{original} is negative; MRR must be 0 or more")
        is_trial = row.get("is_trial", parse_bool)
        if is_trial is None and original is not None:
            is_trial = original == 0  # "a row with mrr 0 is a trial unless it says otherwise"
        return {
            "customer_id": self.customers.resolve(row),
            "external_id": row.get("external_id", max_length=max_length(Subscription, "external_id")) or "",
            "plan": row.get("plan", required=True, max_length=max_length(Subscription, "plan")),
            "started_at": started,
            "ended_at": ended,
            "mrr": mrr,
            "original_mrr": original,
            "currency": currency,
            "billing_period_months": positive_int(row, "billing_period_months", minimum=1, maximum=SMALL_INT_LIMIT) or 1,
            "quantity": positive_int(row, "quantity", minimum=0),
            "is_trial": is_trial,
            "end_reason_id": row.get("end_reason", self._reason),
            "end_note": row.get("end_note", max_length=Subscription._meta.get_field("end_note").max_length) or "",
        }

    def key(self, values):
        if values["external_id"]:
            return ("external_id", values["external_id"])
        return ("natural", values["customer_id"], values["plan"], values["started_at"])

    def find_existing(self, keyed):
        found = {}
        by_external_id = [k[1] for k in keyed if k[0] == "external_id"]
        for chunk in chunks(by_external_id):
            rows = Subscription.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
            found.update((("external_id", e), pk) for e, pk in rows)
        natural = {k[1] for k in keyed if k[0] == "natural"}
        for chunk in chunks(natural):
            rows = Subscription.objects.filter(external_id="", customer_id__in=chunk)
            for c, plan, started, pk in rows.values_list("customer_id", "plan", "started_at", "pk"):
                if ("natural", c, plan, started) in keyed:
                    found[("natural", c, plan, started)] = pk
        return found

    def touch(self, obj):
        self.result.touch(obj.customer_id, as_utc_start(obj.started_at), obj.ended_at and as_utc_start(obj.ended_at))


class Tickets(ExternalIdKeyMixin, CustomerRefKind):
    name = "tickets"
    model = Ticket
    required = ("external_id", "customer_external_id", "opened_at")
    optional = ("first_response_at", "resolved_at", "contacts_count", "channel", "priority", "subject")
    field_sources = {
        "external_id": (),
        "customer_id": (),
        "opened_at": (),
        "first_response_at": ("first_response_at",),
        "resolved_at": ("resolved_at",),
        "contacts_count": ("contacts_count",),
        "channel": ("channel",),
        "priority": ("priority",),
        "subject": ("subject",),
    }

    def parse(self, row):
        opened = row.get("opened_at", parse_datetime, required=True)
        first_response = row.get("first_response_at", parse_datetime)
        resolved = row.get("resolved_at", parse_datetime)
        not_before(row, "first_response_at", first_response, "opened_at", opened)
        not_before(row, "resolved_at", resolved, "opened_at", opened)
        return {
            "external_id": row.get("external_id", required=True, max_length=max_length(Ticket, "external_id")),
            "customer_id": self.customers.resolve(row),
            "opened_at": opened,
            "first_response_at": first_response,
            "resolved_at": resolved,
            "contacts_count": positive_int(row, "contacts_count", minimum=1),
            "channel": row.get("channel", max_length=max_length(Ticket, "channel")) or "",
            "priority": row.get("priority", max_length=max_length(Ticket, "priority")) or "",
            "subject": row.get("subject", max_length=max_length(Ticket, "subject")) or "",
        }

    def touch(self, obj):
        self.result.touch(obj.customer_id, obj.opened_at, obj.first_response_at, obj.resolved_at)


class Costs(RecordKind):
    name = "costs"
    model = CostEntry
    required = ("month", "category", "amount")
    optional = ("currency",)
    field_sources = {"month": (), "category": (), "amount": (), "original_amount": (), "currency": ()}
    key_column = "category"

    @staticmethod
    def _category(text):
        if text.lower() in CostEntry.Category.values:
            return text.lower()
        raise CellError(f'"{text}" is not a cost category (use one of {", ".join(CostEntry.Category.values)})')

    def parse(self, row):
        amount, original, currency = money(row, "amount")
        return {
            "month": row.get("month", parse_month, required=True),
            "category": row.get("category", self._category, required=True),
            "amount": amount,
            "original_amount": original,
            "currency": currency,
        }

    def key(self, values):
        return (values["month"], values["category"])

    def find_existing(self, keyed):
        rows = CostEntry.objects.filter(month__in={k[0] for k in keyed}).values_list("month", "category", "pk")
        return {(m, c): pk for m, c, pk in rows if (m, c) in keyed}

    def touch(self, obj):
        self.result.touch(None, as_utc_start(obj.month))


class Leads(ExternalIdKeyMixin, CustomerRefKind):
    name = "leads"
    model = Lead
    required = ("external_id", "created_at")
    optional = ("source", "converted_at", "customer_external_id")
    field_sources = {
        "external_id": (),
        "created_at": (),
        "source": ("source",),
        "converted_at": ("converted_at",),
        "customer_id": ("customer_external_id",),
    }

    def parse(self, row):
        created = row.get("created_at", parse_datetime, required=True)
        converted = row.get("converted_at", parse_datetime)
        not_before(row, "converted_at", converted, "created_at", created)
        return {
            "external_id": row.get("external_id", required=True, max_length=max_length(Lead, "external_id")),
            "source": row.get("source", max_length=max_length(Lead, "source")) or "",
            "created_at": created,
            "converted_at": converted,
            "customer_id": self.customers.resolve(row, required=False),
        }

    def touch(self, obj):
        self.result.touch(obj.customer_id, obj.created_at, obj.converted_at)
