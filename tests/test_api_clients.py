"""Clients generated from the OpenAPI schema, as an integrator would generate them.

- Python: openapi-python-client (requirements-dev.txt) must generate a client with no
  warning (a warning means an operation or a model was dropped), every module of which
  imports, with one module per operation; clients/python/smoke.py then drives a live test
  server through it (token, customers, tasks, notes, KPIs, a series, a CSV import).
- TypeScript: openapi-typescript generates types, and `tsc` must accept
  clients/typescript/check.ts, code written against them (both pinned in
  clients/typescript/package-lock.json, installed here with `npm ci`).
A schema change that breaks generated code fails here; the last tests show that it does.
Without node and npm the TypeScript tests are skipped with a warning, except in CI.
"""

import copy
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import api_surface
from tests.api_support import fresh_throttles, tmp_media  # noqa: F401
from tests.factories import CustomerFactory, SubscriptionFactory, SurveyResponseFactory

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PYTHON_CONFIG = ROOT / "clients" / "python" / "config.yaml"
TYPESCRIPT = ROOT / "clients" / "typescript"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
RELEASED_SURFACE = ROOT / "clients" / "api-v1-surface.json"


def write_schema(path: Path) -> dict:
    """Write the API's schema as JSON, failing on any warning drf-spectacular has; return it."""
    call_command("spectacular", "--file", str(path), "--format", "openapi-json", "--validate", "--fail-on-warn")
    return json.loads(path.read_text())


def generate_python_client(schema_path: Path, out: Path) -> subprocess.CompletedProcess:
    """Run openapi-python-client as docs/api.md tells users to; the package lands in out/csplatform_client."""
    return subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema_path), "--output-path", str(out / "csplatform_client"),
         "--meta", "none", "--config", str(PYTHON_CONFIG), "--fail-on-warning", "--overwrite"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def operation_count(schema: dict) -> int:
    return sum(
        1 for item in schema["paths"].values() for method in item if method in ("get", "post", "put", "patch", "delete")
    )


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    return path, write_schema(path)


@pytest.fixture(scope="module")
def python_client(schema_file):
    out = schema_file[0].parent
    result = generate_python_client(schema_file[0], out)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Warning" not in output, output
    sys.path.insert(0, str(out))
    yield out
    sys.path.remove(str(out))
    for name in [m for m in sys.modules if m == "csplatform_client" or m.startswith("csplatform_client.")]:
        del sys.modules[name]


def test_the_python_client_has_an_importable_module_for_every_operation(schema_file, python_client):
    """Run in a fresh interpreter with warnings as errors: a module that cannot import is an operation lost."""
    script = (
        "import importlib, json, pkgutil, csplatform_client, csplatform_client.api as api\n"
        "names = [m.name for m in pkgutil.walk_packages(csplatform_client.__path__, 'csplatform_client.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "ops = [m.name for m in pkgutil.walk_packages(api.__path__, 'csplatform_client.api.') if not m.ispkg]\n"
        "print(json.dumps({'modules': len(names), 'operations': len(ops)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], cwd=python_client, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["operations"] == operation_count(schema_file[1]) > 70
    assert counts["modules"] > counts["operations"]


# --- The smoke script against a live server ----------------------------------------------------


@pytest.fixture
def company(transactional_db, admin_user, settings):
    """The admin persona, and a customer paying since last year with an NPS answer last month."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    today = datetime.date.today()
    customer = CustomerFactory(external_id="PAYING", name="Paying")
    SubscriptionFactory(customer=customer, started_at=datetime.date(today.year - 1, 1, 1), ended_at=None, mrr=250)
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=3)
    SurveyResponseFactory(
        customer=customer, survey_type="nps", score=10,
        responded_at=datetime.datetime.combine(last_month, datetime.time(12), tzinfo=datetime.UTC),
    )  # fmt: skip
    return admin_user


def _smoke_module():
    spec = importlib.util.spec_from_file_location("csplatform_smoke", ROOT / "clients" / "python" / "smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_smoke_script_passes_against_a_live_server(python_client, company, live_server, tmp_media, fresh_throttles):
    lines = []
    seen = _smoke_module().run(live_server.url, company.username, "pw-Secret-123", say=lines.append)
    assert seen["mrr"] == 250
    assert seen["series"] == [250] * len(seen["series"])
    assert lines[0] == "token: ok" and lines[-1].startswith(f"import {seen['import']}: done, 2 customers created")


# --- TypeScript ----------------------------------------------------------------------------------


def _need_node():
    if shutil.which("node") and shutil.which("npm"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("node and npm are needed for the TypeScript client check (apt-get install nodejs npm)")
    warnings.warn("node/npm missing: the TypeScript client check is skipped (apt-get install nodejs npm)", stacklevel=2)
    pytest.skip("node and npm are missing")


@pytest.fixture(scope="module")
def typescript_tools():
    """Install the pinned openapi-typescript and typescript (npm ci) unless the lock file's install is there."""
    _need_node()
    installed = TYPESCRIPT / "node_modules" / ".package-lock.json"
    lock = TYPESCRIPT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TYPESCRIPT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    return TYPESCRIPT / "node_modules" / ".bin"


def typescript_check(tools: Path, schema_path: Path, workdir: Path) -> subprocess.CompletedProcess:
    """Generate schema.d.ts from the schema, then type-check check.ts against it; return tsc's result."""
    workdir.mkdir(exist_ok=True)
    for name in ("check.ts", "tsconfig.json"):
        shutil.copy(TYPESCRIPT / name, workdir / name)
    generated = subprocess.run(
        [str(tools / "openapi-typescript"), str(schema_path), "--output", str(workdir / "schema.d.ts")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr
    return subprocess.run(
        [str(tools / "tsc"), "-p", str(workdir)], capture_output=True, text=True, timeout=300
    )


def test_the_typescript_types_check_with_code_that_uses_them(schema_file, typescript_tools, tmp_path):
    result = typescript_check(typescript_tools, schema_file[0], tmp_path / "ts")
    assert result.returncode == 0, result.stdout + result.stderr
    types = (tmp_path / "ts" / "schema.d.ts").read_text()
    assert '"alert.fired": {' in types and 'kind: "customer_movement";' in types


# --- A breaking change fails -----------------------------------------------------------------------


def test_the_schema_keeps_everything_released_in_v1(schema_file):
    """Additions are fine; what docs/api.md reserves for /api/v2/ is listed here. At a release, record
    the new surface: scripts/check_api_clients --write-surface."""
    released = json.loads(RELEASED_SURFACE.read_text())
    assert api_surface.breaking_changes(released, api_surface.surface(schema_file[1])) == []


def test_the_surface_check_tells_breaking_changes_from_additions(schema_file):
    released = api_surface.surface(schema_file[1])
    changed = copy.deepcopy(schema_file[1])
    components = changed["components"]["schemas"]
    components["KpiReport"]["properties"]["generated_by"] = {"type": "string"}  # a new field in an answer: fine
    components["Customer"]["properties"].pop("segment")
    components["TaskRequest"]["required"].append("details")
    components["KpiNps"]["properties"]["responses"] = {"type": "string"}
    components["ImportKindEnum"]["enum"].remove("leads")
    components["KpiRatio"]["required"].remove("numerator")
    del changed["paths"]["/api/v1/notes/{id}/"]["delete"]
    changed["paths"]["/api/v1/kpis/"]["get"]["parameters"].append(
        {"in": "query", "name": "currency", "required": True, "schema": {"type": "string"}}
    )
    assert sorted(api_surface.breaking_changes(released, api_surface.surface(changed))) == [
        "DELETE /api/v1/notes/{id}/: removed",
        "GET /api/v1/kpis/: new required parameter query:currency",
        "component Customer.segment: removed",
        "component ImportKindEnum: enum values removed: leads",
        "component KpiNps.responses: type changed from 'integer' to 'string'",
        "component KpiRatio: no longer always sent: numerator",
        "component TaskRequest: newly required: details",
    ]



def _renamed_numerator(schema: dict, path: Path) -> Path:
    broken = copy.deepcopy(schema)
    ratio = broken["components"]["schemas"]["KpiRatio"]
    ratio["properties"]["count_over"] = ratio["properties"].pop("numerator")
    ratio["required"] = [name if name != "numerator" else "count_over" for name in ratio["required"]]
    path.write_text(json.dumps(broken))
    return path


def test_a_breaking_schema_change_fails_the_typescript_check(schema_file, typescript_tools, tmp_path):
    broken = _renamed_numerator(schema_file[1], tmp_path / "broken.json")
    result = typescript_check(typescript_tools, broken, tmp_path / "ts")
    assert result.returncode != 0
    assert "Property 'numerator' does not exist" in result.stdout


def test_a_breaking_schema_change_fails_the_python_client_on_real_answers(schema_file, tmp_path):
    """A client generated from the broken schema cannot parse what the server sends."""
    broken = _renamed_numerator(schema_file[1], tmp_path / "broken.json")
    result = generate_python_client(broken, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = {"value": 0.5, "numerator": 2, "denominator": 4}
    script = "import json, sys; from csplatform_client.models import KpiRatio; KpiRatio.from_dict(json.loads(sys.argv[1]))"
    parsed = subprocess.run([sys.executable, "-c", script, json.dumps(answer)], cwd=tmp_path, capture_output=True, text=True)
    assert parsed.returncode != 0 and "KeyError: 'count_over'" in parsed.stderr
