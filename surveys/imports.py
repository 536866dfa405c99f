"""The `survey_responses` kind of the CSV import (spec/import.md), registered in `SurveysConfig.ready()`."""

from accounts.models import Contact
from importing.base import chunks, max_length
from importing.kinds import CustomerRefKind
from importing.lookups import ContactIds
from importing.parsing import CellError, parse_datetime, parse_int
from surveys.models import SurveyResponse
from surveys.scales import SCALES


class SurveyResponses(CustomerRefKind):
    name = "survey_responses"
    model = SurveyResponse
    required = ("customer_external_id", "survey_type", "score", "responded_at")
    optional = ("contact_external_id", "comment")
    field_sources = {
        "customer_id": (),
        "contact_id": (),
        "survey_type": (),
        "responded_at": (),
        "score": (),
        "comment": ("comment",),
    }
    key_column = "responded_at"

    def __init__(self, run):
        super().__init__(run)
        self.contacts = ContactIds()

    def prepare(self, rows):
        super().prepare(rows)
        if "contact_external_id" in self.run.index:
            ci, ki = self.run.index["customer_external_id"], self.run.index["contact_external_id"]
            pairs = {(self.customers.get(r.cells[ci].strip()), r.cells[ki].strip()) for r in rows}
            self.contacts.load((c, k) for c, k in pairs if c is not None and k)

    def _survey_type(self, text):
        if text.lower() in SCALES:
            return text.lower()
        raise CellError(f'"{text}" is not a survey type (use nps, csat or ces)')

    def parse(self, row):
        customer_id = self.customers.resolve(row)
        contact_id = None
        contact = row.get("contact_external_id", max_length=max_length(Contact, "external_id"))
        if contact and customer_id is not None:
            contact_id = self.contacts.get((customer_id, contact))
            if contact_id is None:
                customer = row.get("customer_external_id")
                message = f'no contact "{contact}" at customer "{customer}" (import contacts first)'
                row.error("contact_external_id", message)
        survey_type = row.get("survey_type", self._survey_type, required=True)
        score = row.get("score", parse_int, required=True)
        if survey_type is not None and score is not None:
            low, high = SCALES[survey_type]
            if not low <= score <= high:
                row.error("score", f"{score} is outside the {survey_type.upper()} scale {low}–{high}")
        return {
            "customer_id": customer_id,
            "contact_id": contact_id,
            "survey_type": survey_type,
            "score": score,
            "comment": row.get("comment", max_length=max_length(SurveyResponse, "comment")) or "",
            "responded_at": row.get("responded_at", parse_datetime, required=True),
        }

    def key(self, values):
        return (values["customer_id"], values["contact_id"], values["survey_type"], values["responded_at"])

    def find_existing(self, keyed):
        customer_ids = {k[0] for k in keyed}
        found = {}
        for chunk in chunks({k[3] for k in keyed}):
            rows = SurveyResponse.objects.filter(customer_id__in=customer_ids, responded_at__in=chunk)
            for *key, pk in rows.values_list("customer_id", "contact_id", "survey_type", "responded_at", "pk"):
                if tuple(key) in keyed:
                    found[tuple(key)] = pk
        return found

    def touch(self, obj):
        self.result.touch(obj.customer_id, obj.responded_at)
