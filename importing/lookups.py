"""Id caches for references in import files: customers by external id, contacts by (customer, external id).

Each batch asks for the ids it mentions in one query per chunk, never one per row;
answers (including "not there") are remembered for the rest of the file.
"""

from django.utils import timezone

from accounts.models import Contact, Customer
from importing.base import Row, chunks, max_length


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
    """Contact ids by (customer id, external id), loaded a customer at a time.

    Loading all contacts of a customer the first time it appears makes "is this user
    new?" a dict lookup for the rest of the file (a customer has thousands of users at
    most; a file may name them millions of times).
    """

    def __init__(self):
        self.ids: dict[tuple[int, str], int] = {}
        self._customers: set[int] = set()

    def load(self, pairs) -> set[tuple[int, str]]:
        """Make the ids of `(customer_id, external_id)` pairs known; return the pairs that do not exist."""
        pairs = set(pairs)
        new_customers = {customer_id for customer_id, _ in pairs} - self._customers
        for chunk in chunks(new_customers):
            rows = Contact.objects.filter(customer_id__in=chunk).values_list("customer_id", "external_id", "pk")
            self.ids.update(((customer_id, external_id), pk) for customer_id, external_id, pk in rows)
        self._customers |= new_customers
        return pairs - self.ids.keys()

    def create(self, pairs) -> None:
        """Create contacts for the `(customer_id, external_id)` pairs and learn their ids."""
        pairs = set(pairs)
        # ignore_conflicts: a concurrent import may create the same user first; fine.
        now = timezone.now()  # first seen: now, lowered to their first event by metrics' usage refresh
        Contact.objects.bulk_create(
            [Contact(customer_id=c, external_id=e, first_seen_at=now) for c, e in pairs],
            batch_size=1000,
            ignore_conflicts=True,
        )
        # Their ids: reload those customers' contacts (by the customer index, one query a chunk).
        customer_ids = {customer_id for customer_id, _ in pairs}
        self._customers -= customer_ids
        self.load((customer_id, "") for customer_id in customer_ids)

    def get(self, pair):
        return self.ids.get(pair)
