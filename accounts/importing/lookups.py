"""Id caches for references in import files: customers by external id, contacts by (customer, external id).

Each batch asks for the ids it mentions in one query per chunk, never one per row;
answers (including "not there") are remembered for the rest of the file.
"""

from accounts.importing.base import Row, chunks, max_length
from accounts.models import Contact, Customer


class CustomerIds:
    def __init__(self):
        self.ids: dict[str, int] = {}
        self._missing: set[str] = set()

    def load(self, external_ids) -> None:
        wanted = {e for e in external_ids if e and e not in self.ids and e not in self._missing}
        for chunk in chunks(wanted):
            self.ids.update(Customer.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
        self._missing |= wanted - self.ids.keys()

    def get(self, external_id):
        return self.ids.get(external_id)

    def resolve(self, row: Row, column="customer_external_id", *, required=True):
        """Return the customer id named in `row`'s `column` (None, with an error, if there is none)."""
        external_id = row.get(column, required=required, max_length=max_length(Customer, "external_id"))
        if external_id is None:
            return None
        pk = self.ids.get(external_id)
        if pk is None:
            row.error(column, f'no customer with id "{external_id}" (import customers first)')
        return pk


class ContactIds:
    def __init__(self):
        self.ids: dict[tuple[int, str], int] = {}

    def load(self, pairs) -> set[tuple[int, str]]:
        """Fetch the ids of `(customer_id, external_id)` pairs; return the pairs that do not exist."""
        wanted = {pair for pair in pairs if pair not in self.ids}
        if not wanted:
            return set()
        customer_ids = {customer_id for customer_id, _ in wanted}
        for chunk in chunks({external_id for _, external_id in wanted}):
            rows = Contact.objects.filter(customer_id__in=customer_ids, external_id__in=chunk).values_list(
                "customer_id", "external_id", "pk"
            )
            self.ids.update(((customer_id, external_id), pk) for customer_id, external_id, pk in rows)
        return wanted - self.ids.keys()

    def create(self, pairs) -> None:
        """Create contacts for the `(customer_id, external_id)` pairs (a concurrent import may win; fine)."""
        Contact.objects.bulk_create(
            [Contact(customer_id=c, external_id=e) for c, e in pairs], batch_size=500, ignore_conflicts=True
        )
        self.load(pairs)

    def get(self, pair):
        return self.ids.get(pair)
