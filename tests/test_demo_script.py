"""scripts/demo decides whether to load the demo data from one word that manage.py shell prints."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_data_check_prints_nothing_but_its_answer(tmp_path):
    # Django's shell announces its automatic imports on stdout unless quiet: the demo then never saw
    # "True", simulated the company again on every start and trained a new churn model each time.
    line = next(line for line in (ROOT / "scripts" / "demo").read_text().splitlines() if "manage.py shell" in line)
    flags, code = re.search(r"manage\.py shell (.*?)-c '([^']*)'", line).groups()
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
           "CELERY_BROKER_URL": "memory://"}  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "manage.py", "shell", *flags.split(), "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "imported" not in result.stdout
    assert result.stdout.strip() in ("", "True", "False")  # an empty database fails the query: nothing printed
