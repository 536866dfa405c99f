"""Benchmark: the nightly KPI snapshot run against the company scope alone, at several sizes.

    .venv/bin/python benchmarks/nightly_snapshots.py [--sizes 1000 10000 30000 100000] [--base 1000]

For each size N, in its own process and throw-away database (csp_bench_snap_nightly_N), the
demo simulator builds a company of --base customers (three months of data, two CSMs), copied
N/base times in SQL with new customers and contacts (the fast way to reach 100 k: simulating
takes about a minute per 1,000 customers here; every size has the same shape). Then, in the
same process:

* the baseline: the company scope alone, `snapshot_write(Scope(), period)` for the two
  periods of 2024-03-15 (a normal day: yesterday and the month to date), the per-scope path
  as `compute_kpis` answers it live; and the same for the closed month (February);
* the daily run: the beat task `metrics.snapshots_daily` for 2024-03-15, eager, in-process:
  one set-based task per KPI family and period over the company, the segments and the CSMs
  (customer scopes are stored for closed months only);
* the monthly run: the beat task `metrics.snapshots_monthly` for 2024-03-01 (February), one
  task per family over every scope, each customer's included, with its rows written.

Each run reports every family's share, split into reading the inputs of every customer
(the grouped queries), writing the rows, and the rest (each scope's inputs put together and
the formulas). Prints, per size, the daily run against the company scope alone (target:
≤ 10 at 100 k customers) and the monthly run against the company scope's month alone,
and writes benchmarks/results/nightly_snapshots.json.
"""

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402

DAY = "2024-03-15"

# Tables copied with their customer (and contact) ids shifted by --copies; unique text keys get a suffix,
# one-to-one links are left empty in the copies.
COPIED = ("accounts_subscription", "metrics_userdayactivity", "metrics_customerdayfeature", "metrics_usagesession",
          "metrics_usermonthactivity", "metrics_customermonthfeature",
          "accounts_ticket", "surveys_surveyresponse")  # fmt: skip
UNIQUE_TEXT = ("external_id", "event_id")
ONE_TO_ONE = ("invitation_id", "follow_up_task_id")


def _copy_company(copies: int) -> None:
    """Copy every customer with its contacts, subscriptions, rollups, sessions, tickets and survey answers
    copies − 1 times, in SQL (PostgreSQL): the fast way to a large company with the simulator's shape."""
    from django.db import connection

    with connection.cursor() as cursor:

        def columns(table):
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
                " ORDER BY ordinal_position",
                [table],
            )
            return [row[0] for row in cursor.fetchall()]

        def copy(table, k, keep_id, shift, contact_shift):
            cols = columns(table)
            replace = {"customer_id": f"customer_id + {shift * k}", "contact_id": f"contact_id + {contact_shift * k}"}
            replace |= {c: "NULL" for c in ONE_TO_ONE}
            replace |= {c: f"CASE WHEN {c} = '' THEN {c} ELSE {c} || '-c{k}' END" for c in UNIQUE_TEXT}
            replace["name"] = f"name || ' {k}'" if table == "accounts_customer" else "name"
            select = ", ".join(replace.get(c, c) for c in cols)
            if keep_id:  # customers and contacts keep their ids, shifted, so the rows above can point at them
                own = shift if table == "accounts_customer" else contact_shift
                select, cols = f"id + {own * k}, {select}", ["id", *cols]
            source = "id" if table == "accounts_customer" else "customer_id"
            cursor.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} WHERE {source} <= {shift}")

        cursor.execute("SELECT max(id) FROM accounts_customer")
        shift = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM accounts_contact")
        contact_shift = cursor.fetchone()[0]
        for k in range(1, copies):
            copy("accounts_customer", k, True, shift, contact_shift)
            copy("accounts_contact", k, True, shift, contact_shift)
            for table in COPIED:
                copy(table, k, False, shift, contact_shift)
        for table in ("accounts_customer", "accounts_contact", *COPIED):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")


def part(customers: int, copies: int) -> dict:
    with common.throwaway_database(f"csp_bench_snap_nightly_{customers}") as url:
        common.setup_django(url, CELERY_TASK_ALWAYS_EAGER="1")
        started = time.perf_counter()
        common.simulate(customers // copies, csms=("carla", "david"), events_scale=0.1)
        if copies > 1:
            _copy_company(copies)
        build_s = time.perf_counter() - started
        from django.db import connection

        from accounts.models import Customer
        from metrics import grouped, snapshots, tasks
        from metrics.models import KpiSnapshot
        from metrics.selectors import Scope

        day = datetime.date.fromisoformat(DAY)
        periods = snapshots.daily_periods(day)
        month = snapshots.closed_month(day.replace(day=1))

        def timed(fn):
            started = time.perf_counter()
            fn()
            return time.perf_counter() - started

        timed(lambda: [snapshots.snapshot_write(Scope(), p) for p in periods])  # warm the caches once
        company_s = min(timed(lambda: [snapshots.snapshot_write(Scope(), p) for p in periods]) for _ in range(2))
        company_month_s = min(timed(lambda: snapshots.snapshot_write(Scope(), month)) for _ in range(2))
        KpiSnapshot.objects.all().delete()

        # Each family's share of a run, split into reading its inputs for every customer (grouped queries),
        # writing the rows (COPY + INSERT … ON CONFLICT) and the rest (scopes' inputs put together, formulas, rows).
        shares = {}
        write_family, upsert, families = snapshots.snapshot_write_family, snapshots._upsert, dict(grouped.FAMILIES)

        def timed_family(family, *args, **kwargs):
            share = shares.setdefault(family, {"seconds": 0.0, "read": 0.0, "write": 0.0})
            started = time.perf_counter()
            written = write_family(family, *args, **kwargs)
            share["seconds"] += time.perf_counter() - started
            return written

        def timed_read(name):
            def read(period):
                started = time.perf_counter()
                inputs = families[name].read(period)
                shares[name]["read"] += time.perf_counter() - started
                return inputs

            return read

        def timed_upsert(rows):
            started = time.perf_counter()
            upsert(rows)
            shares[current[0]]["write"] += time.perf_counter() - started

        current = [None]

        def run(task, *args):
            shares.clear()

            def family_of(family, *a, **k):
                current[0] = family
                return timed_family(family, *a, **k)

            snapshots.snapshot_write_family, snapshots._upsert = family_of, timed_upsert
            for name, family in families.items():
                grouped.FAMILIES[name] = dataclasses.replace(family, read=timed_read(name))
            try:
                seconds = timed(lambda: task(*args))
            finally:
                snapshots.snapshot_write_family, snapshots._upsert = write_family, upsert
                grouped.FAMILIES.update(families)
            split = {
                name: {"seconds": round(s["seconds"], 2), "read": round(s["read"], 2), "write": round(s["write"], 2),
                       "scopes_and_formulas": round(s["seconds"] - s["read"] - s["write"], 2)}
                for name, s in shares.items()
            }  # fmt: skip
            return seconds, split

        daily_s, daily_families = run(tasks.snapshots_daily, DAY)  # the beat task itself: every family and period
        daily_rows = KpiSnapshot.objects.count()
        daily_customer_rows = KpiSnapshot.objects.filter(scope__startswith="customer:").count()
        KpiSnapshot.objects.all().delete()
        monthly_s, monthly_families = run(tasks.snapshots_monthly, month.end.isoformat())  # the closed month, every scope
        monthly_rows = KpiSnapshot.objects.count()
        figures = {
            "customers": Customer.objects.count(),
            "simulated_customers": customers // copies,
            "copies": copies,
            "build_seconds": round(build_s, 1),
            "daily_scopes": len(snapshots.all_scopes(include_customers=False)),
            "periods": len(periods),
            "company_scope_seconds": round(company_s, 3),
            "daily_run_seconds": round(daily_s, 2),
            "daily_rows": daily_rows,
            "daily_customer_rows": daily_customer_rows,
            "daily_family_seconds": daily_families,
            "ratio_daily_run_to_company_scope": round(daily_s / company_s, 1),
            "month": f"{month.start}/{month.end}",
            "monthly_scopes": len(snapshots.all_scopes()),
            "company_scope_month_seconds": round(company_month_s, 3),
            "monthly_run_seconds": round(monthly_s, 2),
            "monthly_rows": monthly_rows,
            "monthly_family_seconds": monthly_families,
            "monthly_us_per_row": round(monthly_s / monthly_rows * 1e6, 1),
            "ratio_monthly_run_to_company_scope_month": round(monthly_s / company_month_s, 1),
            "load_average_at_end": common.machine()["load_average"],
        }
        connection.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 30000, 100000])
    parser.add_argument("--base", type=int, default=1000, help="simulate this many customers, copy them size/base times in SQL")
    parser.add_argument("--part", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        common.part_output(part(args.part, args.copies))
        return
    results = {"day": DAY, "load_average_1min_at_start": common.machine()["load_average"][0], "sizes": {}}
    for size in args.sizes:
        copies = max(1, size // args.base)
        figures = common.run_part(Path(__file__), ["--part", str(size), "--copies", str(copies)])
        results["sizes"][str(size)] = figures
        print(size, figures, file=sys.stderr)
    out = common.write_results("nightly_snapshots", results)
    for size, f in results["sizes"].items():
        print(
            f"{f['customers']:>7} customers: daily run {f['daily_run_seconds']} s ({f['daily_rows']} rows, "
            f"{f['daily_customer_rows']} of customers, {f['periods']} periods), company scope alone "
            f"{f['company_scope_seconds']} s, ratio ×{f['ratio_daily_run_to_company_scope']}; monthly run "
            f"{f['monthly_run_seconds']} s ({f['monthly_rows']} rows, {f['monthly_us_per_row']} µs a row), company "
            f"scope's month alone {f['company_scope_month_seconds']} s, ratio ×{f['ratio_monthly_run_to_company_scope_month']}; "
            f"peak {f['max_rss_mb']} MB; load at end {f['load_average_at_end']}"
        )
    print(f"written to {out.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
