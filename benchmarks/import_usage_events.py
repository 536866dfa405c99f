"""Benchmark: importing usage events against PostgreSQL's own COPY of the same file.

    .venv/bin/python benchmarks/import_usage_events.py [--rows 2000000] [--no-sqlite] [--explain]

Generates a usage-events CSV (500 customers with about 20 users each, sessions of a few
events spread over 90 days), then runs each part in its own process so that its peak
memory (ru_maxrss) is its own:

* copy:    PostgreSQL's COPY of the CSV into a plain, index-free staging table, first and
           again last (the ratios use the mean of the two: the load of a shared machine moves);
* copy_indexed: the fair baseline: COPY of the same (de-duplicated) rows, already in the
           table's shape (customer and contact ids), into a table like accounts_usageevent
           with its indexes, constraints and both foreign keys (runs after `ours`, which
           creates the contacts it refers to);
* ours:    `import_file("usage_events", …)` into the real table (checks every row,
           resolves customers and contacts, creates the users, de-duplicates);
* reimport: the same file again (every row a duplicate, so nothing is written);
* sqlite:  `import_file` on SQLite, for comparison;
* explain: with --explain, EXPLAIN ANALYZE of the event reads of the REST API, the admin and
           a customer's delete on the imported rows (benchmarks/results/import_usage_events_explain.json).

Uses the throw-away database `csp_bench_events_import` (or $CSP_BENCH_IMPORT_DB) on postgresql://postgres@127.0.0.1:5432
(created, migrated by the `ours` part, dropped at the end). Writes benchmarks/results/import_usage_events.json.
"""

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.common import machine  # noqa: E402
SERVER = "postgresql://postgres@127.0.0.1:5432"
DB_NAME = os.environ.get("CSP_BENCH_IMPORT_DB", "csp_bench_events_import")  # a shared machine: name yours
EVENT_TYPES = ["login", "view_dashboard", "report", "export", "search", "comment", "upload", "share",
               "invite_user", "settings", "api_call", "logout"]  # fmt: skip


def generate(path: Path, rows: int, customers: int, seed=1) -> None:
    """Write `rows` events, day by day in time order, as an analytics export would be."""
    rng = random.Random(seed)
    users = {c: rng.randint(10, 30) for c in range(customers)}
    days = 90
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("customer_external_id,user_external_id,event_type,occurred_at\n")
        for day in range(days):
            target = rows * (day + 1) // days - written
            day_rows = []
            while len(day_rows) < target:
                c = rng.randrange(customers)
                user = f"C{c:04d}-U{rng.randrange(users[c]):02d}"
                when = start + datetime.timedelta(days=day, seconds=rng.randrange(8 * 3600, 20 * 3600))
                for _ in range(min(rng.randint(1, 15), target - len(day_rows))):
                    when += datetime.timedelta(seconds=rng.randint(5, 600))
                    day_rows.append((when, f"C{c:04d},{user},{rng.choice(EVENT_TYPES)},{when:%Y-%m-%dT%H:%M:%SZ}\n"))
            day_rows.sort(key=lambda r: r[0])
            out.writelines(line for _, line in day_rows)
            written += len(day_rows)


def max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def cpu_seconds(backend_pid: int) -> float:
    """CPU time used so far by this process and by the PostgreSQL backend serving it (same machine).

    On a shared machine the wall time of a part swings with the others' load; the CPU time
    its two processes spend moves far less, so the benchmark reports both.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return usage.ru_utime + usage.ru_stime + (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def part_copy(csv_path: str) -> dict:
    import psycopg

    with psycopg.connect(f"{SERVER}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_staging")
        conn.execute(
            "CREATE TABLE bench_copy_staging (customer_external_id text, user_external_id text, "
            "event_type text, occurred_at timestamptz)"
        )
        pid = conn.info.backend_pid
        started, cpu = time.perf_counter(), cpu_seconds(pid)
        with conn.cursor() as cursor, open(csv_path, "rb") as source:
            with cursor.copy("COPY bench_copy_staging FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
        seconds, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
        rows = conn.execute("SELECT count(*) FROM bench_copy_staging").fetchone()[0]
        conn.execute("DROP TABLE bench_copy_staging")
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "rows": rows}


def part_copy_indexed() -> dict:
    """COPY the imported events, exported in table shape, into an indexed copy of the table with its FKs."""
    import psycopg

    with psycopg.connect(f"{SERVER}/{DB_NAME}", autocommit=True) as conn, tempfile.TemporaryFile() as rows:
        columns = "customer_id, contact_id, event_type, occurred_at, session_id"
        with conn.cursor().copy(f"COPY (SELECT {columns} FROM accounts_usageevent ORDER BY id) TO STDOUT") as copy:
            for block in copy:
                rows.write(block)
        rows.seek(0)
        conn.execute("DROP TABLE IF EXISTS bench_copy_indexed")
        conn.execute("CREATE TABLE bench_copy_indexed (LIKE accounts_usageevent INCLUDING ALL)")
        conn.execute("ALTER TABLE bench_copy_indexed ADD FOREIGN KEY (customer_id) REFERENCES accounts_customer (id)")
        conn.execute("ALTER TABLE bench_copy_indexed ADD FOREIGN KEY (contact_id) REFERENCES accounts_contact (id)")
        pid = conn.info.backend_pid
        started, cpu = time.perf_counter(), cpu_seconds(pid)
        with conn.transaction(), conn.cursor().copy(f"COPY bench_copy_indexed ({columns}) FROM STDIN") as copy:
            while block := rows.read(1 << 20):
                copy.write(block)
        seconds, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
        count = conn.execute("SELECT count(*) FROM bench_copy_indexed").fetchone()[0]
        conn.execute("DROP TABLE bench_copy_indexed")
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "rows": count}


def setup_django(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "csplatform.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def part_import(csv_path: str, database_url: str, customers: int, fresh: bool) -> dict:
    setup_django(database_url)
    from django.db import connection

    from accounts.models import Contact, Customer, UsageEvent
    from importing.runner import import_file

    if fresh:
        if connection.vendor == "postgresql":  # a new SQLite file is already empty
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE accounts_customer CASCADE")
        Customer.objects.bulk_create(Customer(external_id=f"C{c:04d}", name=f"Customer {c}") for c in range(customers))
    pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
    started, cpu = time.perf_counter(), cpu_seconds(pid) if pid else 0
    result = import_file("usage_events", csv_path)
    seconds, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu if pid else None
    assert result.committed and not result.errors, result.errors[:5]
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2) if cpu is not None else None,
        "rows": result.rows_read,
        "created": result.created,
        "duplicates": result.updated,
        "contacts_created": Contact.objects.count() if fresh else 0,
        "events_in_table": UsageEvent.objects.count(),
    }


def part_explain() -> dict:
    """EXPLAIN ANALYZE the reads of the imported events by the API, the admin and deletes (docs/scaling.md §6)."""
    setup_django(f"{SERVER}/{DB_NAME}")
    from datetime import timedelta

    from django.db import connection

    from accounts.models import Customer, UsageEvent

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_usageevent")  # as autovacuum would after a large import
    events = UsageEvent.objects.select_related("contact")  # accounts.selectors.usage_event_list_for_user
    middle = UsageEvent.objects.order_by("occurred_at").values_list("occurred_at", flat=True)[
        UsageEvent.objects.count() // 2
    ]
    some_id = UsageEvent.objects.order_by("-id").values_list("id", flat=True)[5000]
    customers = list(Customer.objects.order_by("id").values_list("id", flat=True)[:25])
    portfolio = Customer.objects.filter(id__in=customers).values("pk")  # a CSM's 25 customers (policy.restrict)
    time_order = ("occurred_at", "id")  # lib.rest.TimeCursorPagination
    admin = UsageEvent.objects.select_related("customer", "contact").order_by("-occurred_at", "-id")  # UsageEventAdmin
    cases = {
        "API, first page of all events": events.order_by(*time_order)[:101],
        "API, a page further on (cursor)": events.filter(occurred_at__gte=middle).order_by(*time_order)[5:106],
        "API, one customer": events.filter(customer_id=customers[7]).order_by(*time_order)[:101],
        "API, a CSM's 25 customers": events.filter(customer_id__in=portfolio).order_by(*time_order)[:101],
        "API, one day": events.filter(occurred_at__gte=middle, occurred_at__lt=middle + timedelta(days=1))
        .order_by(*time_order)[:101],
        "API, one event type": events.filter(event_type="export").order_by(*time_order)[:101],
        "admin list": admin[:50],
        "admin list, customer searched": admin.filter(customer__external_id="C0007")[:50],
        "admin change page (by id)": UsageEvent.objects.filter(pk=some_id),
    }
    plans = {name: queryset.explain(analyze=True, costs=False) for name, queryset in cases.items()}
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) DELETE FROM accounts_usageevent WHERE customer_id = {customers[7]}")
        plans["delete of a customer's events"] = "\n".join(row for (row,) in cursor.fetchall())
        cursor.execute("ROLLBACK")
    out = ROOT / "benchmarks" / "results" / "import_usage_events_explain.json"
    out.write_text(json.dumps({"events": UsageEvent.objects.count(), "plans": plans}, indent=1) + "\n")
    return {"plans": len(plans), "written_to": str(out.relative_to(ROOT))}


def run_part(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def drop_database():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def ensure_database():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--explain", action="store_true", help="also EXPLAIN ANALYZE the readers of the events")
    parser.add_argument(
        "--part", choices=["copy", "copy_indexed", "ours", "reimport", "sqlite", "explain"], help=argparse.SUPPRESS
    )
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()

    pg_url = f"{SERVER}/{DB_NAME}"
    if args.part:  # a child process: run one part, print its figures as JSON
        if args.part == "copy":
            figures = part_copy(args.csv)
        elif args.part == "copy_indexed":
            figures = part_copy_indexed()
        elif args.part == "explain":
            figures = part_explain()
        elif args.part == "sqlite":
            db = Path(tempfile.gettempdir()) / "csp_import_bench.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            figures = part_import(args.csv, f"sqlite:///{db}", args.customers, fresh=True)
        else:
            figures = part_import(args.csv, pg_url, args.customers, fresh=args.part == "ours")
        print(json.dumps({**figures, "max_rss_mb": max_rss_mb()}))
        return

    ensure_database()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "usage_events.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows, args.customers)
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f}s", file=sys.stderr)  # fmt: skip
        common = ["--csv", str(csv_path), "--customers", str(args.customers)]
        results = {"rows": args.rows, "file_mb": round(csv_path.stat().st_size / 1e6, 1)}
        # The machine may be shared: the load says how much the figures can be trusted.
        results["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
        parts = ["copy", "ours", "copy_indexed", "reimport"] + ([] if args.no_sqlite else ["sqlite"])
        for part in parts:
            results[part] = run_part(["--part", part, *common])
            print(part, results[part], file=sys.stderr)
        if args.explain:
            results["explain"] = run_part(["--part", "explain", *common])
        # The bare COPY takes seconds, the import a minute or more: on a shared machine the load
        # can change in between, so the COPY is measured again at the end and the ratios use the mean.
        results["copy_after"] = run_part(["--part", "copy", *common])
        print("copy_after", results["copy_after"], file=sys.stderr)
        results["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    copy_s = round((results["copy"]["seconds"] + results["copy_after"]["seconds"]) / 2, 2)
    results["copy_mean_seconds"] = copy_s
    ours_s = results["ours"]["seconds"]
    results["ratio_ours_to_copy"] = round(ours_s / copy_s, 2)
    results["ratio_ours_to_copy_indexed"] = round(ours_s / results["copy_indexed"]["seconds"], 2)
    results["ratio_reimport_to_copy"] = round(results["reimport"]["seconds"] / copy_s, 2)
    copy_cpu = (results["copy"]["cpu_seconds"] + results["copy_after"]["cpu_seconds"]) / 2
    results["cpu_ratio_ours_to_copy"] = round(results["ours"]["cpu_seconds"] / copy_cpu, 2)
    results["cpu_ratio_ours_to_copy_indexed"] = round(results["ours"]["cpu_seconds"] / results["copy_indexed"]["cpu_seconds"], 2)
    results["cpu_ratio_reimport_to_copy"] = round(results["reimport"]["cpu_seconds"] / copy_cpu, 2)
    for part in parts:
        results[part]["rows_per_second"] = round(args.rows / results[part]["seconds"])
    results["measured_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    results["machine"] = machine()
    drop_database()
    out = ROOT / "benchmarks" / "results" / "import_usage_events.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    reimport = results["reimport"]
    print(
        f"COPY {copy_s}s (mean of {results['copy']['seconds']}s and {results['copy_after']['seconds']}s), COPY into the indexed table {results['copy_indexed']['seconds']}s, ours {ours_s}s "
        f"(ratio {results['ratio_ours_to_copy']} to COPY, {results['ratio_ours_to_copy_indexed']} to indexed COPY), "
        f"{results['ours']['rows_per_second']:,} rows/s, peak memory {results['ours']['max_rss_mb']} MB; "
        f"re-import {reimport['seconds']}s (ratio {results['ratio_reimport_to_copy']}), "
        f"{reimport['rows_per_second']:,} rows/s, peak memory {reimport['max_rss_mb']} MB; "
        f"CPU time (client + backend): ratio {results['cpu_ratio_ours_to_copy']} to COPY, "
        f"{results['cpu_ratio_ours_to_copy_indexed']} to indexed COPY, re-import {results['cpu_ratio_reimport_to_copy']}; "
        f"written to {out.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
