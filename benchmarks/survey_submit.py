"""Benchmark: public survey submits per second under concurrent load, vs a bare one-insert Django view.

    .venv/bin/python benchmarks/survey_submit.py [--requests 1200] [--concurrency 8] [--seconds 60] [--rounds 1]

In a throw-away database (csp_bench_survey) it creates one survey and --requests open
invitations, starts gunicorn (`csplatform.wsgi`, 2×CPU+1 sync workers, the production
layout of docs/deploy.md) on 127.0.0.1 with benchmarks.settings, and drives it with a
bounded thread pool: first POST /bench/insert/ (benchmarks.urls: one INSERT), then one
POST /s/<signed>/ per invitation (score and comment: validation, the response row, the
redirect; the comment's analysis is left to the analysis queue's beat task, not run here).
Each phase stops at --requests or --seconds; --rounds N alternates the two phases N times
with 1/N of each, so that a shared machine's changing load weighs on both alike.
Reports requests/s, median and p95 latency, errors, the ratio survey/bare, and the
gunicorn workers' peak memory (VmHWM); writes benchmarks/results/survey_submit.json.
"""

import argparse
import concurrent.futures
import http.client
import os
import socket
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def build(invitations: int) -> list[str]:
    """Create one survey with `invitations` open invitations; return their signed link values."""
    import datetime

    from django.db import connection
    from django.utils import timezone

    from accounts.models import Contact, Customer
    from benchmarks.urls import BARE_TABLE
    from surveys.models import Survey, SurveyInvitation
    from surveys.tokens import new_token, sign

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL)")
    now = timezone.now()
    customers = Customer.objects.bulk_create(Customer(external_id=f"S{i}", name=f"Customer {i}") for i in range(invitations))
    contacts = Contact.objects.bulk_create(
        Contact(customer=c, external_id=f"u{c.pk}", email=f"u{c.pk}@example.com", language="en") for c in customers
    )
    survey = Survey.objects.create(
        name="Bench NPS", survey_type="nps", status=Survey.Status.ACTIVE, target=Survey.Target.SEGMENT,
        question_en="How likely are you to recommend us?", question_de="Wie wahrscheinlich …?",
    )  # fmt: skip
    rows = SurveyInvitation.objects.bulk_create(
        SurveyInvitation(
            survey=survey, contact=c, customer_id=c.customer_id, token=new_token(), created_at=now,
            expires_at=now + datetime.timedelta(days=14), sent_at=now,
        )  # fmt: skip
        for c in contacts
    )
    return [sign(i.token) for i in rows]


def _request(port: int, method: str, path: str, body: str = "", headers: dict | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Set-Cookie") or ""
    finally:
        conn.close()


def drive(jobs: list, concurrency: int, seconds: float) -> tuple[list[float], int, float]:
    """Run `jobs` (callables returning an HTTP status) on a thread pool until done or `seconds` pass;
    return the latencies, the errors and the seconds it took."""
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds

    def timed(job):
        if time.monotonic() > deadline:
            return None
        started = time.perf_counter()
        status = job()
        return status, time.perf_counter() - started

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for outcome in pool.map(timed, jobs):
            if outcome is None:
                continue
            status, latency = outcome
            latencies.append(latency)
            errors += status >= 400
    return latencies, errors, time.perf_counter() - started


def summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
    }


def load(port: int, jobs: list, concurrency: int, seconds: float) -> dict:
    return summary(*drive(jobs, concurrency, seconds))


def worker_peak_mb(master_pid: int) -> float:
    """Return the largest VmHWM (peak resident memory) among gunicorn's workers, in MB."""
    peaks = []
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        status = Path(f"/proc/{child}/status").read_text()
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")]
    return round(max(peaks), 1)


def part(requests: int, concurrency: int, seconds: float, rounds: int = 1) -> dict:
    with common.throwaway_database("csp_bench_survey") as url:
        common.setup_django(url)
        signed = build(requests + 2 * (2 * os.cpu_count() + 1))
        from django.db import connections

        connections.close_all()
        port = _free_port()
        with common.gunicorn(port, lambda: _request(port, "GET", "/accounts/login/")) as server:
            workers = server.workers
            for _ in range(workers * 2):  # warm every worker
                _request(port, "POST", "/bench/insert/")

            # One GET for the CSRF cookie; its secret is a valid form token for every POST.
            _, cookie = _request(port, "GET", f"/s/{signed[0]}/")
            token = cookie.split("csrftoken=", 1)[1].split(";", 1)[0]
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={token}"}

            def submit(value):
                body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "score": "9", "comment": "Great support, fast answers."})
                return lambda: _request(port, "POST", f"/s/{value}/", body, headers)[0]

            def bare_insert():
                return _request(port, "POST", "/bench/insert/")[0]

            warm = workers * 2  # each worker warms up (the comment analysis is left to a Celery worker's beat task)
            load(port, [submit(v) for v in signed[:warm]], concurrency, seconds)
            # With --rounds N the two phases alternate N times (bare, survey, bare, survey, …), each with
            # 1/N of the requests and seconds: a shared machine's load then weighs on both alike.
            values, per = signed[warm:], requests // rounds
            phases = {"bare_insert": ([], 0, 0.0), "survey_submit": ([], 0, 0.0)}
            round_ratios = []
            for r in range(rounds):
                done = {}
                for name, jobs in (("bare_insert", [bare_insert] * per), ("survey_submit", [submit(v) for v in values[r * per : (r + 1) * per]])):
                    latencies, errors, elapsed = drive(jobs, concurrency, seconds / rounds)
                    total = phases[name]
                    phases[name] = (total[0] + latencies, total[1] + errors, total[2] + elapsed)
                    done[name] = len(latencies) / elapsed
                round_ratios.append(round(done["survey_submit"] / done["bare_insert"], 3))
            bare, survey = summary(*phases["bare_insert"]), summary(*phases["survey_submit"])
            peak = worker_peak_mb(server.pid)
        from surveys.models import SurveyResponse

        survey["responses_stored"] = SurveyResponse.objects.count()
        connections.close_all()
    return {
        "workers": workers, "concurrency": concurrency, "rounds": rounds, "round_ratios": round_ratios,
        "bare_insert": bare, "survey_submit": survey, "worker_peak_mb": peak,
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two phases this many times")
    parser.add_argument("--part", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = ["--requests", str(args.requests), "--concurrency", str(args.concurrency), "--seconds", str(args.seconds)]
    options += ["--rounds", str(args.rounds)]
    if args.part:
        common.part_output(part(args.requests, args.concurrency, args.seconds, args.rounds))
        return
    results = {"load_average_1min_at_start": common.machine()["load_average"][0]}
    results.update(common.run_part(Path(__file__), ["--part", *options]))
    bare, survey = results["bare_insert"], results["survey_submit"]
    results["load_average_1min_at_end"] = common.machine()["load_average"][0]
    results["ratio_survey_to_bare_throughput"] = round(survey["requests_per_second"] / bare["requests_per_second"], 3)
    out = common.write_results("survey_submit", results)
    print(
        f"bare insert {bare['requests_per_second']} req/s (median {bare['median_ms']} ms), survey submit "
        f"{survey['requests_per_second']} req/s (median {survey['median_ms']} ms, p95 {survey['p95_ms']} ms, "
        f"{survey['errors']} errors, {survey['responses_stored']} stored): ratio {results['ratio_survey_to_bare_throughput']} "
        f"(rounds {results['round_ratios']}); {results['workers']} workers, peak {results['worker_peak_mb']} MB each at most; written to {out.relative_to(common.ROOT)}"
    )


if __name__ == "__main__":
    main()
