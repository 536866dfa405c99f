"""The simulator's database side: the CSM users it assigns accounts to, and wiping the
demo data so a run can start over. Importing the files is the CSV import's job.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import CostEntry, Customer, Lead, UsageEvent
from accounts.roles import CSM


def csm_users_ensure(usernames) -> list[str]:
    """Create the CSM users that do not exist yet (no password: demo logins are set elsewhere); return their names."""
    group, _ = Group.objects.get_or_create(name=CSM)
    created = []
    for username in usernames:
        user, was_created = get_user_model().objects.get_or_create(username=username)
        if was_created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            created.append(username)
        user.groups.add(group)
    return created


@transaction.atomic
def demo_data_flush() -> dict[str, int]:
    """Delete every customer (with all that depends on it), every lead and every cost entry."""
    # Usage events first, in one statement: the customer cascade would collect them row by row.
    events, _ = UsageEvent.objects.all().delete()
    customers = Customer.objects.count()
    Customer.objects.all().delete()
    leads, _ = Lead.objects.all().delete()
    costs, _ = CostEntry.objects.all().delete()
    return {"customers": customers, "usage_events": events, "leads": leads, "costs": costs}
