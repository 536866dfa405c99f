"""Analyse survey comments offline (language, sentiment, themes), e.g. after an import."""

from django.core.management.base import BaseCommand

from surveys.services import responses_analyze


class Command(BaseCommand):
    help = "Analyse survey responses not analysed yet (--all: every response; corrected themes are kept)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="everything", help="Re-analyse every response.")

    def handle(self, *args, everything=False, **options):
        count = responses_analyze(everything=everything)
        self.stdout.write(f"analysed {count} responses")
