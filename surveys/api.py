"""Survey endpoints of the REST API: survey responses, checked by the import's survey_responses rules."""

import django_filters as df
from rest_framework import serializers

from accounts.filters import CustomerRefFilterSet, IdFilter
from accounts.importing.parsing import CellError
from accounts.selectors import in_portfolio
from accounts.serializers import ImportRulesSerializer, id_of, visible_customers
from accounts.api import ImportKindViewSet
from accounts.models import Contact
from surveys.models import SurveyResponse, SurveyType


def survey_response_list_for_user(user):
    return in_portfolio(SurveyResponse.objects.all(), user)


class SurveyResponseSerializer(ImportRulesSerializer):
    import_kind = "survey_responses"
    import_fields = ("customer", "contact", "survey_type", "score", "comment", "responded_at")
    columns = {"customer": "customer_external_id", "contact": "contact_external_id"}

    customer = serializers.IntegerField(source="customer_id")
    contact = serializers.IntegerField(source="contact_id", required=False, allow_null=True)
    survey_type = serializers.ChoiceField(choices=SurveyType.choices)
    score = serializers.IntegerField(help_text="nps 0–10, csat 1–5, ces 1–7")

    class Meta:
        model = SurveyResponse
        fields = ("id", "customer", "contact", "survey_type", "score", "comment", "responded_at")

    def cell_contact(self, value):
        if value is None:
            return ""
        pk = id_of(value, "contact")
        contacts = Contact.objects.filter(pk=pk, customer__in=visible_customers(self.context).values("pk"))
        external_id = contacts.values_list("external_id", flat=True).first()
        if external_id is None:
            raise CellError(f"no contact with id {pk}")
        return external_id

    def stored_contact(self, instance):
        return instance.contact.external_id if instance.contact_id else ""


class SurveyResponseFilter(CustomerRefFilterSet):
    contact = IdFilter(field_name="contact_id")
    score = df.RangeFilter()
    responded_at = df.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = SurveyResponse
        fields = ("customer", "segment", "contact", "survey_type", "score", "responded_at")


class SurveyResponseViewSet(ImportKindViewSet):
    import_kind = "survey_responses"
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    search_fields = ("comment",)
    ordering_fields = ("responded_at", "score", "id")

    selector = staticmethod(survey_response_list_for_user)
