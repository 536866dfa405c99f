"""Shared plumbing of the benchmarks: throw-away databases, parts in subprocesses, machine facts, JSON.

Every benchmark runs each measured part in its own process (`run_part`), so the part's
peak memory (`ru_maxrss`) is its own, and writes benchmarks/results/<name>.json with the
machine it ran on (`machine()`), load average included: the machine may be shared.
"""

import contextlib
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("CSP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")  # db 5 unless told: apart from test runs


def max_rss_mb() -> float:
    """Return this process's peak resident memory in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    """Return the facts that say how far figures from this machine carry: CPUs, memory, CPU model, load."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model or platform.processor(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def run_part(script: Path, args: list[str], env: dict | None = None) -> dict:
    """Run `python SCRIPT --part …` and return the JSON object its last stdout line holds."""
    out = subprocess.run(
        [sys.executable, str(script), *args],
        check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def part_output(figures: dict) -> None:
    """Print a part's figures, with its peak memory, as the JSON line `run_part` reads."""
    print(json.dumps({**figures, "max_rss_mb": max_rss_mb()}), flush=True)


@contextlib.contextmanager
def throwaway_database(name: str):
    """Create the PostgreSQL database `name` (csp_bench_…) afresh, yield its URL, drop it afterwards."""
    import psycopg

    assert name.startswith("csp_bench_"), name
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django(database_url: str, *, migrate: bool = True, **environ: str) -> None:
    """Point Django at `database_url` with the benchmark settings (DEBUG off), set it up, migrate."""
    os.environ.update(
        DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="benchmarks.settings", CELERY_BROKER_URL=REDIS_URL, **environ
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def simulate(customers: int, *, csms=("carla",), events_scale=0.2, months=3) -> None:
    """Fill the database with the demo simulator's company of `customers` customers (ends 2024-04-01)."""
    import tempfile

    from django.core.management import call_command

    with tempfile.TemporaryDirectory() as out:
        call_command(
            "simulate", customers=customers, months=months, end=datetime.date(2024, 4, 1), csm=list(csms),
            events_scale=events_scale, out=out, stdout=open(os.devnull, "w"),
        )  # fmt: skip


def page_figures(client, url_path: str, repeat: int, *, expect: bytes = b"") -> dict:
    """Request a page twice (warm), count the queries of a third request, then time --repeat more:
    {"queries": n, "median_ms": ms}. `expect`: bytes the page must contain."""
    from django.db import connection

    for _ in range(2):  # warm: templates, caches, the database's buffers
        response = client.get(url_path)
        assert response.status_code == 200, (url_path, response.status_code)
    queries = []
    with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
        response = client.get(url_path)
    assert expect in response.content, url_path
    seconds = median_seconds(lambda: client.get(url_path), repeat)
    return {"queries": len(queries), "median_ms": round(seconds * 1000, 1)}


def median_seconds(fn, repeat: int) -> float:
    """Return the median wall time of `repeat` calls of `fn`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_results(name: str, results: dict) -> Path:
    """Write results (plus the machine and the time) to benchmarks/results/<name>.json; return the path."""
    results = {**results, "machine": machine(), "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out


@contextlib.contextmanager
def gunicorn(port: int, wait_for, host: str = "127.0.0.1"):
    """Serve `csplatform.wsgi` with gunicorn (2×CPU+1 sync workers, as docs/deploy.md runs it) on host:port.

    Yields the server process once `wait_for()` (a request to it) stops raising OSError;
    stops it afterwards.
    """
    import signal

    workers = 2 * os.cpu_count() + 1
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "csplatform.wsgi", "-w", str(workers),
         "-b", f"{host}:{port}", "--log-level", "warning"],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                wait_for()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        server.workers = workers
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
