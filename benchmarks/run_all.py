"""Run every benchmark, one after the other, and print their summaries.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only NAME …]

Full (10–20 minutes on 2 cores): 1 M usage events for the import, 400 k events and 10×
for the KPI engine, 10 vs 1,000 customers for the pages, 1,200 survey submits, 1 k, 10 k
and 30 k customers for the nightly snapshots (100 k: run that one alone, about 30 minutes).
--quick (about 5 minutes) shrinks every size, so its figures show the shape, not the
production numbers. Each benchmark writes
benchmarks/results/<name>.json; not part of the test suite. Needs PostgreSQL on
127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379 (db 5).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "import_usage_events": (["--rows", "1000000", "--no-sqlite"], ["--rows", "100000", "--no-sqlite"]),
    "kpi_engine": (["--rows", "400000"], ["--rows", "40000"]),
    "pages": (["--small", "10", "--large", "1000"], ["--small", "10", "--large", "200", "--repeat", "5"]),
    "portfolio": (["--sizes", "100", "5000", "50000"], ["--sizes", "100", "5000", "--repeat", "5"]),
    "survey_submit": (["--requests", "1200", "--seconds", "60"], ["--requests", "200", "--seconds", "20"]),
    "segment_ingest": (["--requests", "600", "--delays", "15"], ["--requests", "100", "--delays", "5"]),
    "nightly_snapshots": (["--sizes", "1000", "10000", "30000"], ["--sizes", "100", "300", "1000", "--base", "100"]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: about 5 minutes")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS))
    args = parser.parse_args()
    failed = []
    started = time.monotonic()
    for name, (full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name} (load average {os.getloadavg()[0]:.2f})", flush=True)
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)], cwd=HERE.parent)
        print(f"   {name}: {time.monotonic() - t0:.0f} s{'' if done.returncode == 0 else ' FAILED'}", flush=True)
        if done.returncode:
            failed.append(name)
    print(f"== all done in {(time.monotonic() - started) / 60:.1f} min; results in benchmarks/results/"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))  # fmt: skip
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
