"""JSON shapes of accounts records; writes are checked by the CSV import's own rules (spec/import.md).

`ImportRulesSerializer` turns a request body into the cells of its import kind's row and
runs that kind's `parse` (importing.records), so the API accepts exactly what a
file may hold and words problems the same way, under the API's field names. Fields the
import does not know (a ticket's contact, a customer's parent) are checked by their DRF
fields. Customers are named by id; one outside the user's portfolio does not exist.
"""

import datetime
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django_otp import match_token
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer as PasswordSerializer
from rest_framework.settings import api_settings

from accounts import policy
from accounts.models import ChurnReason, Contact, CostEntry, Customer, Lead, Note, Subscription, Task, Ticket, UsageEvent
from importing.parsing import CellError
from importing.records import record_parse, record_resolve
from lib.dates import validate_in_window


def cell_text(value) -> str:
    """Return a JSON value as the text of a CSV cell (null is a blank cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise CellError("must not contain NUL characters")
        return value
    raise CellError("must be a single value, not a list or an object")


def stored_text(value) -> str:
    """Return a stored value as the text of a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def id_of(value, what="customer") -> int:
    """Return the id in a JSON value, or raise CellError."""
    text = cell_text(value).strip()
    if not text.isascii() or not text.isdigit():
        raise CellError(f'"{text}" is not a {what} id')
    return int(text)


def visible_customers(context):
    return policy.visible_customers(context["request"].user)


class CustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id; customers outside the user's portfolio do not exist for it."""

    default_error_messages = {"does_not_exist": "no customer with id {pk_value}"}

    def get_queryset(self):
        return visible_customers(self.context)

    def to_representation(self, value):
        return value.pk


class MonthField(serializers.CharField):
    """A month as `YYYY-MM`, stored as its first day."""

    def to_representation(self, value):
        return value.strftime("%Y-%m")


class ImportRulesSerializer(serializers.ModelSerializer):
    """A model serializer whose writes are judged by the import's `parse` for `import_kind`.

    `import_fields` are API fields the import checks; `columns` maps those whose CSV column
    has another name. A method `cell_<field>(value)` turns a request value into cell text
    (default `cell_text`), `stored_<field>(instance)` a stored value (default `stored_text`).
    Updates start from the stored record, so a PATCH is checked as the whole record.
    `extra_fields` are checked by their DRF fields, then by `validate_extra`.
    """

    import_kind: str
    import_fields: tuple[str, ...] = ()
    columns: dict[str, str] = {}
    extra_fields: tuple[str, ...] = ()

    def column(self, name):
        return self.columns.get(name, name)

    def cell_customer(self, value):
        pk = id_of(value)
        external_id = visible_customers(self.context).filter(pk=pk).values_list("external_id", flat=True).first()
        if external_id is None:
            raise CellError(f"no customer with id {pk}")
        return external_id

    def stored_customer(self, instance):
        return instance.customer.external_id if instance.customer_id else ""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: ["expected a JSON object"]})
        errors: dict[str, list[str]] = {}
        cells = {}
        if self.instance is not None:
            for name in self.import_fields:
                stored = getattr(self, f"stored_{name}", None)
                cells[self.column(name)] = stored(self.instance) if stored else stored_text(getattr(self.instance, name))
        for name in self.import_fields:
            if name not in data:
                if self.instance is not None and not self.partial and self.fields[name].required:
                    errors[name] = ["This field is required."]
                continue
            try:
                cells[self.column(name)] = getattr(self, f"cell_{name}", cell_text)(data[name])
            except CellError as exc:
                errors[name] = [exc.message]
                cells[self.column(name)] = ""
        parsed = record_parse(self.import_kind, cells)
        names = {self.column(name): name for name in self.import_fields}
        refused = set(errors)  # their cells are blank now: the import's "is empty" would only repeat it
        for column, message in parsed.errors:
            name = names.get(column, column)
            if name not in refused:
                errors.setdefault(name, []).append(message)
        if parsed.existing_pk is not None and parsed.existing_pk != getattr(self.instance, "pk", None):
            name = names.get(parsed.key_column, parsed.key_column)
            verbose = self.Meta.model._meta.verbose_name
            if self._sees(parsed.existing_pk):
                errors.setdefault(name, []).append(f"a {verbose} with the same key already exists")
            else:  # the key is taken outside the user's portfolio: say no more than that it is not free
                errors.setdefault(name, []).append(f"this key cannot be used for a {verbose}; choose another")
        values = parsed.values
        for name in self.extra_fields:
            field = self.fields[name]
            if name not in data:
                if not self.partial and self.instance is None and field.required:
                    errors[name] = ["This field is required."]
                continue
            try:
                values[field.source] = field.run_validation(data[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if not errors:
            self.validate_extra(values, errors)
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def _sees(self, pk) -> bool:
        """Whether the request's user may see the stored record `pk` of this serializer's model."""
        user, model = self.context["request"].user, self.Meta.model
        if model is Customer:
            return policy.visible_customers(user).filter(pk=pk).exists()
        records = model.objects.filter(pk=pk)
        if any(f.name == "customer" for f in model._meta.get_fields()) and model not in (Lead,):
            records = policy.restrict(records, user)
        return records.exists()

    def get_validators(self):
        return []  # the import's key check above replaces DRF's unique-together validators

    def validate_extra(self, values, errors):
        """Check the record as a whole beyond the import's rules; add problems to `errors`."""

    def create(self, validated_data):
        return self.Meta.model.objects.create(**record_resolve(self.import_kind, validated_data))

    def update(self, instance, validated_data):
        for name, value in record_resolve(self.import_kind, validated_data).items():
            setattr(instance, name, value)
        instance.save()
        return instance


class CustomerSerializer(ImportRulesSerializer):
    import_kind = "customers"
    import_fields = ("external_id", "name", "segment", "country", "csm", "created_on")
    columns = {"created_on": "created_at"}
    extra_fields = ("parent",)

    csm = serializers.CharField(
        source="owner.username",
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Username or email of the CSM who owns the account; only admins change it.",
    )
    parent = serializers.IntegerField(source="parent_id", required=False, allow_null=True, min_value=1)
    assigned_users = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")

    class Meta:
        model = Customer
        fields = ("id", "external_id", "name", "segment", "country", "csm", "assigned_users", "parent", "created_on", "added_at")
        read_only_fields = ("added_at",)
        extra_kwargs = {"created_on": {"help_text": "Date the customer signed up (the import's created_at)."}}

    def stored_csm(self, instance):
        return instance.owner.username if instance.owner_id else ""

    def validate_extra(self, values, errors):
        parent = values.get("parent_id")
        if parent is not None:
            if self.instance is not None and parent == self.instance.pk:
                errors["parent"] = ["a customer cannot be its own parent"]
            elif not visible_customers(self.context).filter(pk=parent).exists():
                errors["parent"] = [f"no customer with id {parent}"]
        if not policy.may_reassign_customers(self.context["request"].user):
            current = self.instance.owner_id if self.instance is not None else None
            if values.get("owner_id") != current:
                errors["csm"] = ["only an admin may change who owns a customer"]


class ContactSerializer(ImportRulesSerializer):
    import_kind = "contacts"
    import_fields = ("customer", "external_id", "email", "name", "role", "language")
    columns = {"customer": "customer_external_id"}
    extra_fields = ("opted_out_at",)

    customer = serializers.IntegerField(source="customer_id")

    class Meta:
        model = Contact
        fields = ("id", "customer", "external_id", "email", "name", "role", "language", "opted_out_at")
        extra_kwargs = {"email": {"allow_blank": True}, "opted_out_at": {"allow_null": True}}

    def update(self, instance, validated_data):
        validated_data.pop("first_seen_at", None)  # set when the import's rules create it, never moved later
        return super().update(instance, validated_data)


class SubscriptionSerializer(ImportRulesSerializer):
    import_kind = "subscriptions"
    import_fields = (
        "customer", "external_id", "plan", "started_at", "ended_at", "mrr", "currency",
        "billing_period_months", "quantity", "is_trial", "end_reason", "end_note",
    )  # fmt: skip
    columns = {"customer": "customer_external_id"}

    customer = serializers.IntegerField(source="customer_id")
    end_reason = serializers.SlugRelatedField(
        slug_field="code", queryset=ChurnReason.objects.all(), required=False, allow_null=True,
        help_text="Why the row ended or shrank: a churn reason's code (GET /api/v1/churn-reasons/), or null.",
    )  # fmt: skip
    end_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    mrr = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        help_text="Written: MRR in `currency`; read: converted into the reporting currency (see original_mrr).",
    )
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3)
    is_trial = serializers.BooleanField(required=False, allow_null=True, help_text="Default: true when mrr is 0.")

    class Meta:
        model = Subscription
        fields = (
            "id", "customer", "external_id", "plan", "started_at", "ended_at", "mrr", "currency", "original_mrr",
            "billing_period_months", "quantity", "is_trial", "end_reason", "end_note",
        )  # fmt: skip
        read_only_fields = ("original_mrr",)
        extra_kwargs = {"ended_at": {"allow_null": True}, "quantity": {"allow_null": True}}

    def stored_mrr(self, instance):
        return stored_text(instance.original_mrr)

    def stored_end_reason(self, instance):
        return instance.end_reason.code if instance.end_reason_id else ""


class ChurnReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnReason
        fields = ("code", "label", "label_de", "active")


class TicketSerializer(ImportRulesSerializer):
    import_kind = "tickets"
    import_fields = (
        "external_id", "customer", "opened_at", "first_response_at", "resolved_at", "contacts_count",
        "channel", "priority", "subject",
    )  # fmt: skip
    columns = {"customer": "customer_external_id"}
    extra_fields = ("contact",)

    customer = serializers.IntegerField(source="customer_id")
    contact = serializers.IntegerField(source="contact_id", required=False, allow_null=True, min_value=1)

    class Meta:
        model = Ticket
        fields = (
            "id", "external_id", "customer", "contact", "opened_at", "first_response_at", "resolved_at",
            "contacts_count", "channel", "priority", "subject",
        )  # fmt: skip
        extra_kwargs = {
            "first_response_at": {"allow_null": True},
            "resolved_at": {"allow_null": True},
            "contacts_count": {"allow_null": True},
        }

    def validate_extra(self, values, errors):
        contact = values.get("contact_id")
        if contact is not None and not Contact.objects.filter(pk=contact, customer_id=values["customer_id"]).exists():
            errors["contact"] = [f"no contact with id {contact} at this customer"]


class CostSerializer(ImportRulesSerializer):
    import_kind = "costs"
    import_fields = ("month", "category", "amount", "currency")

    month = MonthField(help_text="YYYY-MM")
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=6, help_text="Written: in `currency`; read: in the reporting currency."
    )
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3)

    class Meta:
        model = CostEntry
        fields = ("id", "month", "category", "amount", "currency", "original_amount")
        read_only_fields = ("original_amount",)

    def stored_month(self, instance):
        return instance.month.strftime("%Y-%m")

    def stored_amount(self, instance):
        return stored_text(instance.original_amount)


class LeadSerializer(ImportRulesSerializer):
    import_kind = "leads"
    import_fields = ("external_id", "source", "created_at", "converted_at", "customer")
    columns = {"customer": "customer_external_id"}

    customer = serializers.IntegerField(source="customer_id", required=False, allow_null=True)

    class Meta:
        model = Lead
        fields = ("id", "external_id", "source", "created_at", "converted_at", "customer")
        extra_kwargs = {"converted_at": {"allow_null": True}}

    def cell_customer(self, value):
        return "" if value is None else super().cell_customer(value)


class NoteSerializer(serializers.ModelSerializer):
    customer = CustomerField()
    author = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = Note
        fields = ("id", "customer", "author", "body", "created_at")
        read_only_fields = ("created_at",)


class TaskSerializer(serializers.ModelSerializer):
    customer = CustomerField()
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="Username; default: the user who creates the task.",
    )

    class Meta:
        model = Task
        fields = ("id", "customer", "assignee", "title", "details", "due_on", "source", "created_at", "completed_at")
        read_only_fields = ("created_at",)
        extra_kwargs = {
            "due_on": {"allow_null": True, "validators": [validate_in_window]},
            "completed_at": {"allow_null": True, "validators": [validate_in_window]},
        }


class UsageEventSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    contact = serializers.IntegerField(source="contact_id", read_only=True)
    user_external_id = serializers.CharField(source="contact.external_id", read_only=True)

    class Meta:
        model = UsageEvent
        fields = ("id", "customer", "contact", "user_external_id", "event_type", "occurred_at", "session_id", "event_id")
        read_only_fields = fields


class UsageEventInSerializer(serializers.Serializer):
    """One event of a bulk upload (for the schema; rows are checked by the import's usage-event rules)."""

    customer = serializers.IntegerField(min_value=1)
    user_external_id = serializers.CharField(max_length=100, help_text="A user unknown so far becomes a contact.")
    event_type = serializers.CharField(max_length=100)
    occurred_at = serializers.DateTimeField()
    session_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    event_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The source's id of the event. With it, only an event with the same id is a duplicate; "
        "without it, an event with the same user, instant and type is.",
    )


class UsageEventBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Events already stored; left as they were.")


class AuthTokenSerializer(PasswordSerializer):
    """Username and password, and for staff when two-factor is on (CSPLATFORM_STAFF_2FA) the current
    one-time code of their authenticator app: a token never gets further than admin would."""

    otp_token = serializers.CharField(
        required=False, write_only=True, label="One-time code",
        help_text="The 6-digit code of the user's authenticator app; required for staff when two-factor is on.",
    )  # fmt: skip

    def validate(self, attrs):
        attrs = super().validate(attrs)
        user = attrs["user"]
        if policy.needs_second_factor(user) and match_token(user, attrs.get("otp_token", "").strip()) is None:
            raise serializers.ValidationError(
                {"otp_token": ["Staff accounts need the current one-time code of their authenticator app."]}
            )
        return attrs

