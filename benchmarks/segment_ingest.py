"""Benchmark: Segment-spec events accepted per second vs a bare one-INSERT view, and the delay until they count in the KPIs.

    .venv/bin/python benchmarks/segment_ingest.py [--requests 600] [--batch 100] [--concurrency 4] [--delays 15]

In a throw-away database (csp_bench_segment) with 50 customers, it starts gunicorn
(`csplatform.wsgi`, 2×CPU+1 sync workers, as docs/deploy.md runs it) with
benchmarks.settings and drives it from a thread pool in the same run:

1. the baseline: POST /bench/insert/ (benchmarks.urls: one INSERT per request, one
   "event" each);
2. single calls: POST /integrations/segment/v1/track, one event each (write key check,
   the import's checks, the event row, the rollups rebuilt for its customer and day,
   a stale mark);
3. batches: POST /integrations/segment/v1/batch with --batch events each.

Reports events/s of each and the ratios to the bare view. Then the end-to-end delay:
the official segment-analytics-python client, in its normal background mode (it
batches and flushes on its own), tracks a new user's event; the delay is measured
until GET /api/v1/kpis/ (computed from the rollups) counts that user in the
customer's MAU. Writes benchmarks/results/segment_ingest.json.
"""

import argparse
import base64
import datetime
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402
from benchmarks.survey_submit import HOST, _free_port, _request, load  # noqa: E402

WRITE_KEY = "wk_benchmark_0123456789"
CUSTOMERS = 50


def build():
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import Customer
    from benchmarks.urls import BARE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL)")
    Customer.objects.bulk_create(Customer(external_id=f"C{i}", name=f"Customer {i}") for i in range(CUSTOMERS))
    admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "unused-password-0")
    return Token.objects.create(user=admin).key


def _event(i: int, now: datetime.datetime) -> dict:
    return {
        "type": "track", "userId": f"user-{i % 500}", "event": f"feature_{i % 12}", "groupId": f"C{i % CUSTOMERS}",
        "messageId": uuid.uuid4().hex, "timestamp": (now - datetime.timedelta(seconds=i)).isoformat(),
    }  # fmt: skip


def _mau(port: int, token: str, customer_pk: int, day: datetime.date) -> int:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        query = f"start={day}&end={day + datetime.timedelta(days=1)}&customer={customer_pk}&keys=mau"
        conn.request("GET", f"/api/v1/kpis/?{query}", headers={"Authorization": f"Token {token}"})
        body = json.loads(conn.getresponse().read())
        return body["kpis"]["mau"]["value"] or 0
    finally:
        conn.close()


def delays(port: int, token: str, trials: int) -> list[float]:
    """Seconds from the client's track() call until the KPI API counts the new user."""
    from segment.analytics import Client

    from accounts.models import Customer

    target = Customer.objects.get(external_id="C0")
    client = Client(write_key=WRITE_KEY, host=f"http://{HOST}:{port}/integrations/segment", max_retries=0)
    seconds = []
    for trial in range(trials):
        today = datetime.datetime.now(datetime.UTC).date()
        before = _mau(port, token, target.pk, today)
        started = time.perf_counter()
        client.track(f"delay-user-{trial}", "Logged in", context={"groupId": "C0"}, message_id=uuid.uuid4().hex)
        while _mau(port, token, target.pk, today) <= before:
            assert time.perf_counter() - started < 60, "the event did not count within a minute"
            time.sleep(0.02)
        seconds.append(time.perf_counter() - started)
    client.shutdown()
    return seconds


def part(requests: int, batch: int, concurrency: int, trials: int) -> dict:
    with common.throwaway_database("csp_bench_segment") as url:
        common.setup_django(url, INTEGRATION_SEGMENT_WRITE_KEY=WRITE_KEY)
        token = build()
        from django.db import connections

        connections.close_all()
        port = _free_port()
        auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        headers = {"Content-Type": "application/json", "Authorization": auth}
        now = datetime.datetime.now(datetime.UTC)
        with common.gunicorn(port, lambda: _request(port, "GET", "/accounts/login/")) as server:
            workers = server.workers
            for i in range(workers * 2):  # warm every worker on both views
                _request(port, "POST", "/bench/insert/")
                _request(port, "POST", "/integrations/segment/v1/track", json.dumps(_event(10_000_000 + i, now)), headers)
            bare = load(port, [lambda: _request(port, "POST", "/bench/insert/")[0]] * requests, concurrency, 120)

            def single(i):
                return lambda: _request(port, "POST", "/integrations/segment/v1/track", json.dumps(_event(i, now)), headers)[0]

            def batched(i):
                body = json.dumps({"batch": [_event(i * batch + j, now) for j in range(batch)]})
                return lambda: _request(port, "POST", "/integrations/segment/v1/batch", body, headers)[0]

            singles = load(port, [single(i) for i in range(requests)], concurrency, 120)
            batches = load(port, [batched(1000 + i) for i in range(max(1, requests // 10))], concurrency, 120)
            delay = delays(port, token, trials)
        from accounts.models import UsageEvent

        stored = UsageEvent.objects.count()
        connections.close_all()
    bare["events_per_second"] = bare["requests_per_second"]
    singles["events_per_second"] = singles["requests_per_second"]
    batches["events_per_second"] = round(batches["requests_per_second"] * batch, 1)
    return {
        "workers": workers, "concurrency": concurrency, "batch_size": batch, "bare_insert": bare,
        "segment_single": singles, "segment_batch": batches, "events_stored": stored,
        "delay_seconds": {"trials": len(delay), "median": round(statistics.median(delay), 3),
                          "max": round(max(delay), 3), "all": [round(d, 3) for d in delay]},
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delays", type=int, default=15)
    parser.add_argument("--part", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        common.part_output(part(args.requests, args.batch, args.concurrency, args.delays))
        return
    options = ["--requests", str(args.requests), "--batch", str(args.batch), "--concurrency", str(args.concurrency),
               "--delays", str(args.delays)]  # fmt: skip
    results = {"load_average_1min_at_start": common.machine()["load_average"][0]}
    results.update(common.run_part(Path(__file__), ["--part", *options]))
    bare = results["bare_insert"]["events_per_second"]
    results["ratio_single_to_bare"] = round(results["segment_single"]["events_per_second"] / bare, 3)
    results["ratio_batch_to_bare"] = round(results["segment_batch"]["events_per_second"] / bare, 3)
    out = common.write_results("segment_ingest", results)
    single, batched, delay = results["segment_single"], results["segment_batch"], results["delay_seconds"]
    print(
        f"bare insert {bare} events/s; Segment track {single['events_per_second']} events/s "
        f"(ratio {results['ratio_single_to_bare']}, {single['errors']} errors), batch of {results['batch_size']} "
        f"{batched['events_per_second']} events/s (ratio {results['ratio_batch_to_bare']}, {batched['errors']} errors); "
        f"until counted in the KPIs: median {delay['median']} s, max {delay['max']} s over {delay['trials']} events; "
        f"{results['events_stored']} events stored; written to {out.relative_to(common.ROOT)}"
    )


if __name__ == "__main__":
    main()
