"""Write docs/kpis.md from the KPI catalogue (metrics/catalogue.py); --check fails when it is out of date."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics import catalogue
from metrics.quality import CHECKS


class Command(BaseCommand):
    help = "Write docs/kpis.md from metrics/catalogue.py (--check: only say whether it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 when docs/kpis.md differs from the catalogue.")

    def handle(self, *args, check=False, **options):
        path = Path(settings.BASE_DIR) / "docs" / "kpis.md"
        text = catalogue.markdown(CHECKS)
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(f"{path} is out of date: run `python manage.py kpi_docs`")
            self.stdout.write(f"{path} is current")
            return
        path.write_text(text)
        self.stdout.write(f"wrote {path}")
