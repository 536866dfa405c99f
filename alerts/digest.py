"""The weekly digest of one CSM: at-risk customers, band changes, overdue tasks, renewals.

`digest_for` gathers it (a fixed number of queries); `digest_send` claims the
(user, week) row before sending, so a re-run or a retried task sends nothing twice, and
announces the claimed digest (`alerts.signals.digest_ready`) for chat.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import policy
from accounts.models import Subscription, Task
from accounts.roles import CSM
from alerts import signals
from alerts.conditions import published_scores
from alerts.models import DigestSent
from metrics.health_snapshots import band_changes_for_user

RENEWAL_DAYS = 30


@dataclass
class Digest:
    user: object
    day: datetime.date
    at_risk: list  # (customer, score)
    band_changes: list[dict]
    overdue_tasks: list
    renewals: list  # (customer, renewal_on)

    @property
    def is_empty(self) -> bool:
        return not (self.at_risk or self.band_changes or self.overdue_tasks or self.renewals)


def digest_recipients():
    """The CSMs with an email address."""
    return get_user_model().objects.filter(groups__name=CSM, is_active=True).exclude(email="").distinct()


def digest_for(user, day: datetime.date) -> Digest:
    """Gather `user`'s digest at the start of `day`."""
    customers = {c.pk: c for c in policy.visible_customers(user)}
    scores = published_scores(list(customers), day)
    at_risk = sorted(
        ((customers[cid], score) for cid, (score, band) in scores.items() if band == "at_risk"), key=lambda p: p[1]
    )
    overdue = list(
        policy.restrict(Task.objects.filter(assignee=user, completed_at__isnull=True, due_on__lt=day), user).select_related("customer").order_by("due_on")
    )
    renewals = (
        Subscription.objects.paying_at(day)
        .filter(customer_id__in=list(customers), ended_at__lt=day + datetime.timedelta(days=RENEWAL_DAYS))
        .values("customer_id")
        .annotate(on=Min("ended_at"))
        .order_by("on")
    )
    return Digest(
        user=user,
        day=day,
        at_risk=at_risk,
        band_changes=band_changes_for_user(user, day),
        overdue_tasks=overdue,
        renewals=[(customers[r["customer_id"]], r["on"]) for r in renewals],
    )


def digest_send(*, user, week_start: datetime.date) -> bool:
    """Send `user` the digest of the week starting `week_start`, once; return whether it was sent now."""
    DigestSent.objects.get_or_create(user=user, week_start=week_start)
    claimed = DigestSent.objects.filter(user=user, week_start=week_start, sent_at__isnull=True).update(sent_at=timezone.now())
    if not claimed:
        return False
    digest = digest_for(user, week_start)
    transaction.on_commit(lambda: signals.digest_ready.send(sender=Digest, digest=digest))
    if not user.email:
        return False
    body = render_to_string("alerts/email/digest.txt", {"digest": digest, "base_url": settings.CSPLATFORM_BASE_URL})
    send_mail(f"[csplatform] Your week: {len(digest.at_risk)} at risk, {len(digest.overdue_tasks)} overdue", body, None, [user.email])
    return True
