"""The demo's daily loop (manage.py demo_live) on a small simulated company: rules enabled after a dry run,
alerts with tasks and playbook runs, a survey answered through invitations and analysed, churn reasons
on real losses, every CSM with something in the inbox; a second run adds nothing."""

import datetime

import pytest
from django.core.management import call_command

from accounts.models import Customer, Subscription
from alerts.models import Alert, AlertRule, PlaybookRun
from surveys.models import Survey, SurveyInvitation, SurveyResponse

END = datetime.date(2026, 11, 1)


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_live_fills_every_part_of_the_daily_loop(tmp_path, capsys, django_capture_on_commit_callbacks):
    call_command("simulate", customers=60, months=10, end=END, out=str(tmp_path), csm=["carla", "david"])
    with django_capture_on_commit_callbacks(execute=True):  # the emails and playbook starts queued on commit
        call_command("demo_live")
    out = capsys.readouterr().out
    assert "daily loop: 5 alert rules" in out
    rules = AlertRule.objects.all()
    assert rules.count() == 5 and all(r.enabled and r.dry_run_at for r in rules)
    assert Alert.objects.exists() and all(a.task_id for a in Alert.objects.all())
    assert PlaybookRun.objects.exists()
    survey = Survey.objects.get()
    answered = SurveyResponse.objects.filter(invitation__survey=survey)
    assert survey.invitations.count() > 0 and answered.count() > 0
    assert answered.filter(analyzed_at__isnull=False).count() == answered.count()
    assert SurveyResponse.objects.filter(analyzed_at__isnull=True).count() == 0  # the imported history too
    ended = Subscription.objects.filter(ended_at__lte=datetime.date.today(), is_trial=False, mrr__gt=0)
    assert ended.filter(end_reason__isnull=False).exists()
    for csm in ("carla", "david"):
        assert Customer.objects.filter(owner__username=csm).exists()
    for csm in ("carla", "david"):
        assert Alert.objects.filter(closed_at__isnull=True, customer__owner__username=csm).exists()
        assert Alert.objects.filter(acknowledged_by__username=csm).exists()
    counts = [m.objects.count() for m in (AlertRule, SurveyInvitation, SurveyResponse)]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_live")
    assert [m.objects.count() for m in (AlertRule, SurveyInvitation, SurveyResponse)] == counts
