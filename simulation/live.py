"""The demo's daily loop, switched on: alert rules that fire, playbooks that run, a survey sent and
answered through the real flow, the feedback analysis, churn reasons on the simulated losses, and a
few alerts already worked on, so that every page of the CS team's day shows data.

Everything goes through the services a real installation uses (alerts.services, alerts.inbox,
alerts.playbooks, surveys.services); only the answers and the reasons are simulated, from a seed.
Safe to run again: rules, playbooks and the survey are found by name, alerts stay one per rule and
customer, and invitations are one per survey and contact.
"""

import datetime
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import ChurnReason, Contact, Customer, Subscription, Task
from alerts import inbox, services
from alerts.dryrun import dry_run
from alerts.models import Alert, AlertRule, Playbook, PlaybookRun, PlaybookStep
from surveys import scales
from surveys.models import Survey, SurveyInvitation, SurveyResponse
from simulation import texts
from surveys.services import response_record, responses_analyze, survey_send

RULES = (
    # name, kind, threshold, playbook
    ("Health dropped a band", AlertRule.Kind.BAND_DROP, 0, "Rescue an at-risk account"),
    ("High churn risk", AlertRule.Kind.CHURN_RISK, 25, "Rescue an at-risk account"),
    ("Contract ends within 60 days", AlertRule.Kind.RENEWAL, 60, "Prepare the renewal"),
    ("Detractor answer", AlertRule.Kind.DETRACTOR, 0, ""),
    ("Health score fell 15 points", AlertRule.Kind.SCORE_DROP, 15, "Rescue an at-risk account"),
)
PLAYBOOKS = {
    "Rescue an at-risk account": (
        "Call the champion, agree a plan, check in a week later.",
        [("task", "Call the champion about the drop", 2), ("wait", "", 7), ("task", "Check in: is the plan working?", 3)],
    ),
    "Prepare the renewal": (
        "A review of value delivered before the contract ends, then the offer.",
        [("task", "Prepare the renewal review", 5), ("wait", "", 14), ("task", "Send the renewal offer", 3)],
    ),
}
SURVEY_NAME = "NPS – demo quarter"
SURVEY_CONTACTS = 60  # invited through the real flow; about two thirds answer


@dataclass
class LiveResult:
    rules: int = 0
    alerts: int = 0
    playbook_runs: int = 0
    invited: int = 0
    answered: int = 0
    analysed: int = 0
    reasons: int = 0
    per_csm: dict = field(default_factory=dict)


def playbooks_ensure() -> dict[str, Playbook]:
    found = {}
    for name, (description, steps) in PLAYBOOKS.items():
        playbook, created = Playbook.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            for position, (kind, title, days) in enumerate(steps):
                PlaybookStep.objects.create(playbook=playbook, position=position, kind=kind, title=title, days=days)
        found[name] = playbook
    return found


def rules_ensure(day: datetime.date) -> list[AlertRule]:
    """The demo's rules, each dry-run over four weeks before it is enabled (as the rule page asks)."""
    books = playbooks_ensure()
    rules = []
    for name, kind, threshold, playbook in RULES:
        rule, _created = AlertRule.objects.get_or_create(
            name=name, defaults={"kind": kind, "threshold": threshold, "playbook": books.get(playbook), "send_email": True}
        )
        if rule.dry_run_at is None:
            dry_run(rule.kind, rule.threshold, day, 4)
            rule.dry_run_at = timezone.now()
            rule.save(update_fields=["dry_run_at"])
        services.rule_enable(rule, True)
        rules.append(rule)
    return rules


def reasons_simulate(day: datetime.date, rng: random.Random) -> int:
    """Give most simulated losses a reason, as a CSM would record it: low usage, a detractor, a smaller plan."""
    reasons = {r.code: r for r in ChurnReason.objects.all()}
    ended = list(
        Subscription.objects.filter(ended_at__lte=day, end_reason__isnull=True, is_trial=False, mrr__gt=0)
        .select_related("customer")
        .order_by("pk")
    )
    detractors = set(
        SurveyResponse.objects.filter(survey_type=scales.NPS, score__lte=scales.low_max(scales.NPS))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    follow_on = {
        (s.customer_id, s.started_at): s.mrr
        for s in Subscription.objects.filter(customer_id__in={s.customer_id for s in ended}, is_trial=False)
    }
    changed = []
    for s in ended:
        if rng.random() < 0.15:
            continue  # nobody recorded why: the report shows them as "no reason given"
        replaced_by = follow_on.get((s.customer_id, s.ended_at))
        if replaced_by is not None and replaced_by >= s.mrr:
            continue  # an upgrade or a renewal, not a loss
        if replaced_by is not None:
            code = "downsizing"
        elif s.customer_id in detractors:
            code = rng.choice(("support", "missing_features", "competitor"))
        else:
            code = rng.choice(("price", "low_adoption", "competitor", "business_closed", "low_adoption"))
        s.end_reason = reasons.get(code)
        s.end_note = "" if rng.random() < 0.6 else rng.choice(
            ("Said so on the exit call.", "From the cancellation form.", "Champion left the company.")
        )
        changed.append(s)
    Subscription.objects.bulk_update(changed, ["end_reason", "end_note"], batch_size=500)
    return len(changed)


def survey_run(now: datetime.datetime, rng: random.Random) -> tuple[int, int]:
    """Send an NPS survey to a sample of current customers' contacts and answer about two thirds of it."""
    survey, _ = Survey.objects.get_or_create(
        name=SURVEY_NAME,
        defaults={"survey_type": scales.NPS, "status": Survey.Status.ACTIVE, "target": Survey.Target.CONTACTS,
                  "question_en": "How likely are you to recommend us to a friend or colleague?",
                  "question_de": "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?"},
    )  # fmt: skip
    if survey.invitations.exists():
        return survey.invitations.count(), 0  # sent and answered on an earlier run
    paying = Subscription.objects.paying_at(now.date()).values("customer_id")
    contacts = list(Contact.objects.filter(customer__in=paying).exclude(email="").order_by("pk").values_list("pk", flat=True))
    rng.shuffle(contacts)
    survey.target_contacts.set(contacts[:SURVEY_CONTACTS])
    survey_send(survey=survey, now=now - datetime.timedelta(days=3))
    answered = 0
    for invitation in SurveyInvitation.objects.filter(survey=survey, response__isnull=True).select_related("contact").order_by("pk"):
        if rng.random() > 0.67:
            continue
        score = rng.choice((0, 2, 4, 5, 6, 7, 7, 8, 8, 9, 9, 9, 10, 10))
        language = invitation.contact.language or "en"
        comment = rng.choice(texts.COMMENTS[(language, texts.sentiment(scales.NPS, score))]) if rng.random() < 0.8 else ""
        result = response_record(invitation=invitation, score=score, comment=comment,
                                 now=now - datetime.timedelta(hours=rng.randint(1, 60)))  # fmt: skip
        answered += result.response is not None
    return survey.invitations.count(), answered


def alerts_work(day: datetime.date, rng: random.Random) -> None:
    """Each CSM has looked at their inbox: one alert acknowledged, one snoozed, one resolved."""
    for csm_id in sorted(set(Customer.objects.exclude(owner=None).values_list("owner", flat=True))):
        open_alerts = list(Alert.objects.filter(closed_at__isnull=True, customer__owner_id=csm_id).select_related("task", "customer__owner").order_by("pk"))
        if len(open_alerts) < 4:
            continue
        user = open_alerts[0].customer.owner
        inbox.alert_acknowledge(alert=open_alerts[0], user=user)
        inbox.alert_snooze(alert=open_alerts[1], until=day + datetime.timedelta(days=5), today=day)
        inbox.alert_resolve(alert=open_alerts[2], user=user, note="Talked to them; usage is back.")


def demo_live(day: datetime.date | None = None, seed: int = 42, *, analyse: bool = True) -> LiveResult:
    """Switch the demo company's daily loop on (see the module docstring); return what it did.

    `analyse=False` leaves the imported answers' feedback analysis to the caller (scripts/demo queues it
    for the worker, so the first page does not wait for it)."""
    now = timezone.now()
    day = day or timezone.localdate()
    rng = random.Random(seed)
    result = LiveResult()
    with transaction.atomic():
        result.reasons = reasons_simulate(day, rng)
    result.invited, result.answered = survey_run(now, rng)  # their answers are analysed as they come in
    if analyse:
        result.analysed = responses_analyze()  # the imported history
    rules = rules_ensure(day)
    result.rules = len(rules)
    for back in range(2, -1, -1):  # the last three daily runs, so the inbox holds alerts of different ages
        for rule in rules:
            with transaction.atomic():
                services.rule_evaluate(rule, day - datetime.timedelta(days=back))
    if not Alert.objects.filter(Q(acknowledged_at__isnull=False) | Q(closed_by__isnull=False)).exists():
        alerts_work(day, rng)
    result.alerts = Alert.objects.filter(closed_at__isnull=True).count()
    result.playbook_runs = PlaybookRun.objects.count()
    counts = (
        Task.objects.filter(completed_at__isnull=True, assignee__isnull=False)
        .values("assignee__username")
        .annotate(n=Count("pk"))
    )
    alerts_by_csm = (
        Alert.objects.filter(closed_at__isnull=True).values("customer__owner__username").annotate(n=Count("pk"))
    )
    result.per_csm = {
        row["assignee__username"]: {"open_tasks": row["n"], "open_alerts": 0} for row in counts
    }
    for row in alerts_by_csm:
        if row["customer__owner__username"] in result.per_csm:
            result.per_csm[row["customer__owner__username"]]["open_alerts"] = row["n"]
    return result
