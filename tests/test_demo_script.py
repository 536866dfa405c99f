"""scripts/demo decides whether to load the demo data from one word that manage.py shell prints."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_the_readme_import_example_runs_as_written(tmp_path):
    """The README's import_csv line works in a fresh shell: no SECRET_KEY needed with the DEBUG=1 it shows."""
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "manage.py import_csv customers" in line)
    env_part, command = line.split(".venv/bin/python ")
    assert env_part.strip() == "DEBUG=1"
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "memory://"})
    args = command.split()[1:]  # import_csv customers customers.csv
    (tmp_path / "customers.csv").write_text("external_id,name\nA,Acme\n")
    without = subprocess.run([sys.executable, "manage.py", *args[:2], str(tmp_path / "customers.csv"), "--dry-run"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert without.returncode != 0 and "SECRET_KEY" in without.stderr  # the failure the README used to lead into
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env={**env, "DEBUG": "1"},
                   check=True, timeout=300)  # fmt: skip
    result = subprocess.run([sys.executable, "manage.py", *args[:2], str(tmp_path / "customers.csv"), "--dry-run"],
                            cwd=ROOT, env={**env, "DEBUG": "1"}, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_suite_writes_screenshots_outside_the_tree_unless_scripts_screenshots_asks(monkeypatch):
    from tests.browser.conftest import screenshot_dir

    monkeypatch.delenv("CSPLATFORM_SCREENSHOTS", raising=False)
    assert ROOT not in screenshot_dir().resolve().parents
    assert 'CSPLATFORM_SCREENSHOTS="$PWD/docs/screenshots"' in (ROOT / "scripts" / "screenshots").read_text()
    monkeypatch.setenv("CSPLATFORM_SCREENSHOTS", str(ROOT / "docs" / "screenshots"))
    assert screenshot_dir() == ROOT / "docs" / "screenshots"
