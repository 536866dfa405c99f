"""Out-of-order and repeated messages: apply an object's state only when it is newer than the last one applied."""

import datetime

from django.db import IntegrityError, transaction

from integrations.models import ObjectVersion


def claim(kind: str, object_id: str, version_at: datetime.datetime) -> bool:
    """Record `version_at` as the object's newest version; False when a newer version was applied already.

    Called inside the transaction that applies the state, so a failure leaves the old version.
    The row lock serialises two deliveries of the same object.
    """
    with transaction.atomic():
        row = ObjectVersion.objects.select_for_update().filter(kind=kind, object_id=object_id).first()
        if row is None:
            try:
                with transaction.atomic():
                    ObjectVersion.objects.create(kind=kind, object_id=object_id, version_at=version_at)
                return True
            except IntegrityError:  # a concurrent delivery created it: compare with its version
                row = ObjectVersion.objects.select_for_update().get(kind=kind, object_id=object_id)
        if row.version_at > version_at:
            return False
        row.version_at = version_at
        row.save(update_fields=["version_at"])
        return True
