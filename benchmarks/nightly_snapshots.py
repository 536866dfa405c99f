"""Benchmark: the nightly KPI snapshot run for 1 k and 10 k customers.

    .venv/bin/python benchmarks/nightly_snapshots.py [--small 1000] [--large 10000] [--sample 1000]

For each size, in its own process and throw-away database (csp_bench_snap_N), the demo
simulator builds a company (three months of data, two CSMs), then the daily beat task
`metrics.snapshots_daily` runs in-process with eager execution for 2024-04-01 (the 1st:
one period, yesterday; on other days the month to date doubles the work). It fans out
over company + segments + CSMs + customers scopes in chunks of 50, as in production.

The customer scopes dominate and cost about the same each, so at the large size only --sample
customers, spread over all of them, are run (through the same fan-out) and their time is scaled to
all customers; aggregate scopes always run in full. Reports seconds (measured and
whole-run estimate), ms per scope (aggregate and customer), ratio large/small; writes
benchmarks/results/nightly_snapshots.json.
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402

DAY = "2024-04-01"


def part(customers: int, sample: int) -> dict:
    with common.throwaway_database(f"csp_bench_snap_{customers}") as url:
        common.setup_django(url, CELERY_TASK_ALWAYS_EAGER="1")
        common.simulate(customers, csms=("carla", "david"), events_scale=0.1)
        from django.db import connection

        from metrics import snapshots, tasks
        from metrics.models import KpiSnapshot

        every = snapshots.all_scopes()
        aggregate = [s for s in every if not s.startswith("customer:")]
        customer = [s for s in every if s.startswith("customer:")]
        periods = snapshots.daily_periods(datetime.date.fromisoformat(DAY))

        def run(scopes):
            started = time.perf_counter()
            for period in periods:
                tasks.fan_out(period.start, period.end, scopes)
            return time.perf_counter() - started

        if sample >= len(customer):
            started = time.perf_counter()
            tasks.snapshots_daily(DAY)  # the beat task itself
            whole = time.perf_counter() - started
            aggregate_s = run(aggregate)  # again, alone, to split the time (upserts: same rows)
            customer_s, measured = whole - aggregate_s, len(customer)
        else:
            aggregate_s = run(aggregate)
            customer_s, measured = run(customer[:: len(customer) // sample][:sample]), sample  # spread over all
        per_customer = customer_s / (measured * len(periods))
        estimate = aggregate_s + per_customer * len(customer) * len(periods)
        figures = {
            "customers": len(customer),
            "scopes": len(every),
            "periods": len(periods),
            "customer_scopes_measured": measured,
            "snapshot_rows": KpiSnapshot.objects.count(),
            "aggregate_seconds": round(aggregate_s, 2),
            "aggregate_ms_per_scope": round(aggregate_s * 1000 / (len(aggregate) * len(periods)), 1),
            "customer_ms_per_scope": round(per_customer * 1000, 1),
            "daily_run_seconds": round(estimate, 1),
            "daily_run_is_estimate": measured < len(customer),
        }
        connection.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--part", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        common.part_output(part(args.part, args.sample))
        return
    results = {"day": DAY, "load_average_1min_at_start": common.machine()["load_average"][0]}
    for size in ("small", "large"):
        results[size] = common.run_part(Path(__file__), ["--part", str(getattr(args, size)), "--sample", str(args.sample)])
        print(size, results[size], file=sys.stderr)
    small, large = results["small"], results["large"]
    results["ratio_large_to_small"] = {
        key: round(large[key] / small[key], 2)
        for key in ("daily_run_seconds", "aggregate_ms_per_scope", "customer_ms_per_scope")
    }
    out = common.write_results("nightly_snapshots", results)
    r = results["ratio_large_to_small"]
    print(
        f"daily run {small['daily_run_seconds']} s for {small['customers']} customers, "
        f"{large['daily_run_seconds']} s for {large['customers']} "
        f"({'estimated from ' + str(large['customer_scopes_measured']) + ' customers; ' if large['daily_run_is_estimate'] else ''}"
        f"×{r['daily_run_seconds']}); per scope {small['customer_ms_per_scope']} → {large['customer_ms_per_scope']} ms "
        f"(customer), {small['aggregate_ms_per_scope']} → {large['aggregate_ms_per_scope']} ms (aggregate); "
        f"peak memory {small['max_rss_mb']} / {large['max_rss_mb']} MB; written to {out.relative_to(common.ROOT)}"
    )


if __name__ == "__main__":
    main()
