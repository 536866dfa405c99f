"""The import contracts of .importlinter hold, and they fail when an app imports upwards.

The failing cases run `lint-imports` on a copy of the source tree with one bad import
added per contract, so the real tree is never touched.
"""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

def _root_packages() -> tuple[str, ...]:
    """The packages .importlinter checks, read from its `root_packages` (one place to add an app)."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return tuple(config["importlinter"]["root_packages"].split())


PACKAGES = _root_packages()
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.slow


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree)}, capture_output=True, text=True
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the apps' Python files and the contracts."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.css"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contracts_that_forbid_it(tree):
    add_import(tree, "accounts.models", "from metrics import rollups  # noqa")  # the domain reaching up
    add_import(tree, "importing.kinds", "from surveys.models import SurveyResponse  # noqa")  # a kind in the wrong app
    add_import(tree, "metrics.kpis", "from django.db import models  # noqa")  # formulas that touch Django
    result = lint(tree)
    out = " ".join(result.stdout.split())  # the report wraps long lines
    assert result.returncode == 1, out
    assert "Contracts: 0 kept, 3 broken." in out
    assert "accounts.models -> metrics.rollups" in out
    assert "importing.kinds -> surveys.models" in out
    assert "metrics.kpis -> django" in out


def test_an_interface_may_not_reach_up_beyond_its_stated_exceptions(tree):
    add_import(tree, "accounts.api", "from metrics import rollups  # noqa")
    result = lint(tree)
    out = " ".join(result.stdout.split())
    assert result.returncode == 1, out
    assert "Each app imports only the apps below it BROKEN" in out
    assert "accounts imports no other app BROKEN" in out
    assert "accounts.api -> metrics.rollups" in out


def test_alerts_sits_below_the_web_pages(tree):
    add_import(tree, "alerts.services", "from web import pages  # noqa")  # domain reaching for the page kit
    result = lint(tree)
    out = " ".join(result.stdout.split())
    assert result.returncode == 1, out
    assert "Each app imports only the apps below it BROKEN" in out
    assert "alerts.services -> web.pages" in out


def test_every_app_of_the_project_is_under_contract():
    from django.apps import apps

    local = {config.name.split(".")[0] for config in apps.get_app_configs() if (ROOT / config.name.split(".")[0]).is_dir()}
    assert local <= set(PACKAGES), f"add {sorted(local - set(PACKAGES))} to .importlinter's root_packages and layers"
