"""Survey endpoints of the REST API: survey responses (checked by the import's survey_responses rules) and,
read-only, the surveys themselves."""

import django_filters as df
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import ImportKindViewSet
from accounts.filters import CustomerRefFilterSet
from accounts import policy
from accounts.models import Contact
from accounts.permissions import RolePermission
from accounts.serializers import ImportRulesSerializer, id_of, visible_customers
from importing.parsing import CellError
from lib.filters import DateTimeRangeFilter, FilterSet, IdFilter
from lib.rest import AtomicWritesMixin, PagePagination, StrictFilterBackend, StrictOrderingFilter, StrictSearchFilter
from surveys.models import Survey, SurveyResponse, SurveyType
from surveys.selectors import responses_for_user
from surveys.tasks import survey_send


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
    responded_at = DateTimeRangeFilter()

    class Meta:
        model = SurveyResponse
        fields = ("customer", "segment", "contact", "survey_type", "score", "responded_at")


class SurveyResponseViewSet(ImportKindViewSet):
    import_kind = "survey_responses"
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    search_fields = ("comment",)
    ordering_fields = ("responded_at", "score", "id")

    selector = staticmethod(responses_for_user)
    refused_change = "an answer a contact gave through their survey link is theirs: it cannot be changed or deleted"

    @staticmethod
    def may_change(user, response) -> bool:
        """An answer a contact gave through their survey link is theirs: read-only (accounts.policy)."""
        return policy.may_change_answer(user, response)


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        # Not target_contacts: they may belong to customers outside a CSM's portfolio.
        exclude = ("target_contacts",)


class SurveyFilter(FilterSet):
    class Meta:
        model = Survey
        fields = ("survey_type", "status", "target", "target_segment")


class SurveyViewSet(AtomicWritesMixin, viewsets.ModelViewSet):
    """Surveys: every role reads them; admins set them up and send them (`send`)."""

    serializer_class = SurveySerializer
    queryset = Survey.objects.all()
    permission_classes = [RolePermission]
    pagination_class = PagePagination
    filter_backends = [StrictFilterBackend, StrictSearchFilter, StrictOrderingFilter]
    filterset_class = SurveyFilter
    search_fields = ("name",)
    ordering_fields = ("created_at", "name", "id")

    @extend_schema(request=None, responses={202: inline_serializer("SurveySendQueued", {"queued": serializers.BooleanField()})})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Queue the invitations of an active survey to its target (fatigue rules apply)."""
        survey = self.get_object()
        if survey.status != Survey.Status.ACTIVE:
            return Response({"status": ["only an active survey can be sent"]}, status=400)
        survey_send.delay_on_commit(survey.pk)
        return Response({"queued": True}, status=202)
