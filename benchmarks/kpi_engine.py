"""Benchmark: a month's usage KPIs through the engine (rollups) vs plain SQL over raw events.

Loads synthetic usage events into a throw-away PostgreSQL database at 1×, 3× and 10× size
(`--scales`), builds the rollups, then times, in the same run, `compute_kpis` for the
company's usage KPIs of one month against straightforward SQL over the raw events giving
the same numbers. Prints the ratio and how each grows from 1× to each size; writes JSON to
benchmarks/results/kpi_engine.json. Every scale writes that many distinct events (each
repetition of the generator's 90 days shifts its events by a second).

    .venv/bin/python benchmarks/kpi_engine.py [--rows 1000000] [--scales 1 3 10] [--db-url postgresql://postgres@127.0.0.1:5432/postgres] [--db-name csp_bench_events_kpi]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "csp_bench_events_kpi"

RAW_SQL = """
WITH ev AS (
    SELECT id, customer_id, contact_id, event_type, occurred_at
    FROM accounts_usageevent WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
),
lagged AS (
    SELECT contact_id, occurred_at,
           LAG(occurred_at) OVER (PARTITION BY contact_id ORDER BY occurred_at, id) AS prev
    FROM accounts_usageevent
    WHERE occurred_at >= %(start)s - interval '1 day' AND occurred_at < %(end)s + interval '1 day'
),
numbered AS (
    SELECT contact_id, occurred_at,
           SUM(CASE WHEN prev IS NULL OR occurred_at - prev > interval '30 minutes' THEN 1 ELSE 0 END)
               OVER (PARTITION BY contact_id ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS n
    FROM lagged
),
sessions AS (
    SELECT MIN(occurred_at) AS s, MAX(occurred_at) AS e FROM numbered GROUP BY contact_id, n
)
SELECT
    (SELECT COUNT(DISTINCT contact_id) FROM ev) AS mau,
    (SELECT COUNT(*) FROM (SELECT DISTINCT contact_id, (occurred_at AT TIME ZONE 'UTC')::date FROM ev) d) AS user_days,
    (SELECT COUNT(*) FROM ev) AS events,
    (SELECT COUNT(*) FROM sessions WHERE s >= %(start)s AND s < %(end)s) AS sessions,
    (SELECT SUM(EXTRACT(EPOCH FROM e - s)) FROM sessions WHERE s >= %(start)s AND s < %(end)s) AS seconds,
    (SELECT json_object_agg(event_type, n) FROM
        (SELECT event_type, COUNT(DISTINCT customer_id) AS n FROM ev GROUP BY event_type) f) AS features
"""


def setup_django(db_url):
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    import django

    django.setup()


def recreate_database(admin_url, name=BENCH_DB):
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def load(rows, customers=500, users=20):
    """Insert customers, contacts and `rows` events over three months, set-based in SQL."""
    import datetime

    from django.db import connection

    from lib import partitions
    from metrics.rollups import PARTITIONED

    # The months of the data, as an import of them would create them (PostgreSQL: partitions).
    months = partitions.months_between(datetime.date(2023, 12, 1), datetime.date(2024, 4, 1))
    for model, field in PARTITIONED:
        partitions.months_ensure(model._meta.db_table, model._meta.get_field(field).column, months)
    with connection.cursor() as c:
        c.execute("TRUNCATE accounts_customer, accounts_contact, accounts_usageevent RESTART IDENTITY CASCADE")
        c.execute(
            "INSERT INTO accounts_customer (external_id, name, segment, country, added_at) "
            "SELECT 'C' || g, 'Customer ' || g, 'SMB', 'DE', now() FROM generate_series(1, %s) g",
            [customers],
        )
        c.execute(
            "INSERT INTO accounts_contact (customer_id, external_id, email, name, role, language) "
            "SELECT c.id, 'u' || u, '', '', '', 'en' FROM accounts_customer c, generate_series(1, %s) u",
            [users],
        )
        c.execute("SELECT setseed(0.42)")
        # Events come in bursts: a session start per row group, events a few minutes apart.
        c.execute(
            """
            INSERT INTO accounts_usageevent (customer_id, contact_id, event_type, occurred_at, session_id)
            SELECT ct.customer_id, ct.id,
                   (ARRAY['login','dashboard_view','report_created','export','api_call','invite_user'])[1 + (g %% 6)],
                   timestamptz '2024-01-01 00:00:00+00'
                     + ((g / 8) %% 2160) * interval '1 hour' + (g %% 8) * interval '4 minutes'
                     + (ct.id %% 60) * interval '1 minute'
                     + ((g / 17280) %% 3600) * interval '1 second',
                   ''
            FROM generate_series(1::bigint, %s) g
            JOIN accounts_contact ct ON ct.id = 1 + ((g / 8) * 7919) %% %s
            ON CONFLICT DO NOTHING
            """,
            [rows, customers * users],
        )
        c.execute("ANALYZE")
        c.execute("SELECT COUNT(*) FROM accounts_usageevent")
        return c.fetchone()[0]


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run_scale(rows):
    import datetime

    from django.db import connection

    from metrics.periods import Period
    from metrics.rollups import rebuild_all, rebuild_months
    from metrics.selectors import USAGE_KEYS, Scope, compute_kpis

    events = load(rows)
    t0 = time.perf_counter()
    rebuild_all()
    rollup_seconds = time.perf_counter() - t0
    # The monthly rollups' part of it, again on its own (idempotent): what they add to a build.
    t0 = time.perf_counter()
    rebuild_months()
    month_rollup_seconds = time.perf_counter() - t0
    month = Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
    engine_time, engine = timed(lambda: compute_kpis(Scope(), month, USAGE_KEYS))

    def raw():
        with connection.cursor() as c:
            c.execute(RAW_SQL, {"start": month.start_at, "end": month.end_at})
            return c.fetchone()

    raw_time, (mau, user_days, n_events, sessions, seconds, features) = timed(raw, repeat=3)
    assert engine["mau"].value == mau, (engine["mau"].value, mau)
    assert engine["dau_average"].numerator == user_days
    assert engine["events_per_active_user"].numerator == n_events
    assert engine["average_session_duration"].denominator == sessions
    assert engine["average_session_duration"].numerator == Decimal(seconds)
    assert {k: v.numerator for k, v in engine["feature_adoption"].extra["features"].items()} == features
    from metrics.models import CustomerDayFeature, CustomerMonthFeature, UsageSession, UserDayActivity, UserMonthActivity

    # The month's rollup rows: the engine reads the monthly ones for a whole month (its time
    # follows these), the daily ones for partial months (and before the monthly rollups).
    read = {
        "user_months": UserMonthActivity.objects.filter(month=month.start).count(),
        "customer_month_features": CustomerMonthFeature.objects.filter(month=month.start).count(),
        "user_days": UserDayActivity.objects.filter(day__gte=month.start, day__lt=month.end).count(),
        "sessions": UsageSession.objects.filter(started_at__gte=month.start_at, started_at__lt=month.end_at).count(),
        "customer_day_features": CustomerDayFeature.objects.filter(day__gte=month.start, day__lt=month.end).count(),
    }
    return {
        "events": events,
        "month_rollup_rows": read,
        "rollup_build_seconds": round(rollup_seconds, 3),
        "month_rollup_build_seconds": round(month_rollup_seconds, 3),
        "engine_seconds": round(engine_time, 4),
        "raw_sql_seconds": round(raw_time, 4),
        "raw_over_engine": round(raw_time / engine_time, 1),
    }


def explained(work):
    """Run `work`, then EXPLAIN (ANALYZE) each SELECT it sent; return {index or scan: times used}."""
    import re

    from django.db import connection

    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        work()
    used = {}
    with connection.cursor() as c:
        for sql, params in sent:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT")) or "pg_advisory" in sql:
                continue
            # An INSERT … SELECT already ran (its rows exist): its plan only, not run again.
            analyze = "" if sql.lstrip().upper().startswith("INSERT") else "ANALYZE, "
            c.execute(f"EXPLAIN ({analyze}FORMAT TEXT) " + sql, params)
            plan = "\n".join(row[0] for row in c.fetchall())
            for kind, name in re.findall(r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan) (?:Backward )?(?:using|on) (\S+)", plan):
                # Partitions' own index names end in _idx/_pkey; name the partition's table for seq scans.
                key = kind + ": " + re.sub(r"_p\d{4}_\d{2}", "_p*", name)
                used[key] = used.get(key, 0) + 1
    return dict(sorted(used.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="events at 1×")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 3, 10], help="multiples of --rows to run")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the engine's and a rollup refresh's queries at the last size")
    parser.add_argument("--out", default="kpi_engine.json", help="file name in benchmarks/results/")
    parser.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default=BENCH_DB, help="the throw-away database (dropped at the end)")
    args = parser.parse_args()
    setup_django(recreate_database(args.db_url, args.db_name))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = {}
    load_average = os.getloadavg()[0]
    for scale in args.scales:
        results[f"{scale}x"] = run_scale(args.rows * scale)
        print(f"{scale:>3}× {json.dumps(results[f'{scale}x'])}", flush=True)
    one = results[f"{args.scales[0]}x"]
    summary = {"load_average_1min_at_start": round(load_average, 2), "load_average_1min_at_end": round(os.getloadavg()[0], 2)}
    for scale in args.scales[1:]:
        big = results[f"{scale}x"]
        growth = {
            "events": round(big["events"] / one["events"], 2),
            "engine": round(big["engine_seconds"] / one["engine_seconds"], 2),
            "raw_sql": round(big["raw_sql_seconds"] / one["raw_sql_seconds"], 2),
            "rollup_build": round(big["rollup_build_seconds"] / one["rollup_build_seconds"], 2),
            **{
                f"month_{name}": round(big["month_rollup_rows"][name] / max(one["month_rollup_rows"][name], 1), 2)
                for name in ("user_months", "user_days", "sessions")
            },
        }
        summary[f"growth_{args.scales[0]}x_to_{scale}x"] = growth
        print(
            f"{args.scales[0]}× to {scale}×: {growth['events']}× events, engine time {growth['engine']}×, "
            f"raw SQL {growth['raw_sql']}×, rollup build {growth['rollup_build']}×; the month's user months "
            f"{growth['month_user_months']}×, user days {growth['month_user_days']}× and sessions {growth['month_sessions']}×; "
            f"engine {big['raw_over_engine']}× faster than raw SQL"
        )
    if args.explain:
        import datetime

        from django.db import transaction

        from metrics.periods import Period
        from metrics.rollups import refresh_usage
        from metrics.selectors import USAGE_KEYS, Scope, compute_kpis

        month = Period(datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
        with transaction.atomic():
            summary["explain_engine"] = explained(lambda: compute_kpis(Scope(), month, USAGE_KEYS))
            summary["explain_customer_engine"] = explained(lambda: compute_kpis(Scope(customer_id=7), month, USAGE_KEYS))
            summary["explain_rollup_refresh_one_customer_day"] = explained(
                lambda: refresh_usage([7], datetime.date(2024, 2, 10), datetime.date(2024, 2, 11))
            )
        print(json.dumps({k: v for k, v in summary.items() if k.startswith("explain")}, indent=1))
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"peak memory {summary['peak_rss_mb']} MB; load average {summary['load_average_1min_at_start']} at start")
    out = ROOT / "benchmarks" / "results" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    from benchmarks.common import machine

    out.write_text(json.dumps({"scales": results, "summary": summary, "machine": machine()}, indent=2) + "\n")
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(args.db_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.db_name}")


if __name__ == "__main__":
    main()
