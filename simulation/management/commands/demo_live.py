"""`manage.py demo_live`: switch the demo company's daily loop on (simulation.live); scripts/demo runs it."""

from celery import current_app
from django.core.management.base import BaseCommand

from simulation.live import demo_live
from surveys.tasks import responses_analyze


class Command(BaseCommand):
    help = "Alert rules, playbooks, a survey answered through the real flow, feedback analysis and churn reasons for the demo."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--analyse-later", action="store_true",
            help="queue the feedback analysis of imported answers for the Celery worker instead of running it now",
        )  # fmt: skip

    def handle(self, *args, **options):
        # Side effects (alert emails, playbook starts, survey emails) run here and now, not in a worker
        # that has not started yet: the pages show them from the first request.
        current_app.conf.task_always_eager = True
        result = demo_live(seed=options["seed"], analyse=not options["analyse_later"])
        if options["analyse_later"]:
            current_app.conf.task_always_eager = False
            responses_analyze.delay()
            self.stdout.write("feedback analysis of the imported answers queued for the worker")
        self.stdout.write(
            f"daily loop: {result.rules} alert rules, {result.alerts} open alerts, {result.playbook_runs} playbook runs, "
            f"{result.invited} survey invitations ({result.answered} answered), {result.analysed} answers analysed, "
            f"{result.reasons} churn reasons"
        )
        for username, counts in sorted(result.per_csm.items()):
            self.stdout.write(f"  {username}: {counts['open_alerts']} open alerts, {counts['open_tasks']} open tasks")
