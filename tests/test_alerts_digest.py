"""The weekly digest: what a CSM reads on Monday, sent once per week."""

import datetime
from decimal import Decimal

from alerts.tasks import digest_weekly
from metrics.health_versions import default_model
from metrics.models import HealthScore
from tests.factories import CustomerFactory, SubscriptionFactory, TaskFactory

D = datetime.date


def test_the_digest_lists_at_risk_changes_overdue_and_renewals_once_a_week(db, csm, outsider, settings, mailoutbox):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mine, theirs = CustomerFactory(owner=csm, name="Mine"), CustomerFactory(owner=outsider, name="Theirs")
    SubscriptionFactory(customer=mine, started_at=D(2023, 1, 1), ended_at=D(2024, 3, 20))
    model = default_model()
    for customer in (mine, theirs):
        for day, score, band in [(D(2024, 3, 1), 45, "neutral"), (D(2024, 3, 4), 30, "at_risk")]:
            HealthScore.objects.create(customer=customer, day=day, model=model, score=Decimal(score), band=band,
                                       computed_at=datetime.datetime(2024, 3, 4, tzinfo=datetime.UTC))  # fmt: skip
    TaskFactory(customer=mine, assignee=csm, title="Call back", due_on=D(2024, 3, 1))
    TaskFactory(customer=mine, assignee=csm, title="Later", due_on=D(2024, 3, 9))
    assert digest_weekly("2024-03-04") == 2
    digest_weekly("2024-03-04")
    by_user = {m.to[0]: m.body for m in mailoutbox}
    assert len(mailoutbox) == 2  # one per CSM, not again on a re-run
    body = by_user[csm.email]
    assert "Mine: 30" in body and "Theirs" not in body
    assert "neutral → at_risk" in body
    assert "Call back" in body and "Later" not in body
    assert "Mine on 20 Mar 2024" in body
