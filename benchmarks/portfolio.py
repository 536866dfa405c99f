"""Benchmark: the portfolio page (`/`) of one CSM owning 100, 5,000 (and 50,000) customers.

    .venv/bin/python benchmarks/portfolio.py [--sizes 100 5000 50000] [--repeat 9]

For each size, in its own process and throw-away database (csp_bench_portfolio_N), SQL
`generate_series` builds a company whose customers all belong to the CSM `carla`: per
customer a subscription (a tenth churned a month ago, a fifth renewing within 200 days),
three contacts, about eleven active user days in the last 30, a ticket, an NPS answer and
an open task. The day's health scores are then written as the nightly task writes them
(`health_snapshot_write`, chunks of 2,000; timed apart as "nightly_scores_s"). Then one process
times every page at every size, the sizes interleaved request by request (each size's database
on its own connection): the Django test client, signed in as carla, requests each page twice
(warm), counts its queries and takes the median of --repeat requests; a change of the shared
machine's load weighs on every size alike. Pages: the first page sorted by name (the default),
by MRR (descending), by health, by MRR change, by open tasks and open tickets (descending), by
latest NPS, by last activity, the first page of the at-risk band, a search, page 2, a page in
the middle twice: reached by the Next link of the page before it (a cursor: keyset pagination)
and by its number (`?page=N`, an OFFSET that grows with the portfolio, kept for old links), and
page 2 and the middle page sorted by open tasks, by their Next links. Prints queries and median ms per page and
the ratio to the first size; writes benchmarks/results/portfolio.json.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402

CHUNK = 2000

BUILD = """
INSERT INTO accounts_customer (external_id, name, segment, country, created_on, added_at, owner_id)
SELECT 'B' || i, 'Customer ' || lpad(i::text, 6, '0'), (ARRAY['SMB', 'Mid-Market', 'Enterprise'])[1 + i %% 3], 'DE',
       %(today)s::date - 400, now(), %(owner)s
FROM generate_series(1, %(n)s) AS i;

INSERT INTO accounts_subscription (external_id, end_note, plan, started_at, ended_at, mrr, currency, original_mrr,
                                   billing_period_months, is_trial, customer_id)
SELECT '', '', 'Pro', %(today)s::date - 300 + (c.id %% 60)::int,
       CASE WHEN c.id %% 10 = 0 THEN %(today)s::date - 30
            WHEN c.id %% 5 = 1 THEN %(today)s::date + (c.id %% 200)::int END,
       100 + c.id %% 900, 'EUR', 100 + c.id %% 900, 1 + 11 * (c.id %% 2)::int, false, c.id
FROM accounts_customer c;

INSERT INTO accounts_contact (external_id, email, name, role, language, customer_id)
SELECT 'u' || c.id || '-' || k, 'u' || c.id || '-' || k || '@example.com', '', '', 'en', c.id
FROM accounts_customer c, generate_series(1, 3) AS k;

INSERT INTO metrics_userdayactivity (day, events, contact_id, customer_id)
SELECT %(today)s::date - d, 5, u.id, u.customer_id
FROM accounts_contact u, generate_series(1, 29) AS d
WHERE u.external_id NOT LIKE '%%-3' AND d <= u.customer_id %% 12;

INSERT INTO accounts_ticket (external_id, opened_at, first_response_at, resolved_at, contacts_count, channel,
                             priority, subject, customer_id)
SELECT 't' || c.id, now() - interval '20 days', now() - interval '19 days',
       CASE WHEN c.id %% 2 = 0 THEN now() - interval '10 days' END, CASE WHEN c.id %% 2 = 0 THEN 1 + c.id %% 2 END,
       'email', 'normal', 'Question', c.id
FROM accounts_customer c;

INSERT INTO surveys_surveyresponse (survey_type, score, comment, responded_at, contact_id, customer_id, keywords,
                                    language, themes, themes_corrected)
SELECT 'nps', (c.id %% 11)::smallint, '', now() - interval '10 days',
       (SELECT min(u.id) FROM accounts_contact u WHERE u.customer_id = c.id), c.id, '[]', '', '[]', false
FROM accounts_customer c;

INSERT INTO accounts_task (title, details, due_on, source, created_at, assignee_id, customer_id)
SELECT 'Call', '', %(today)s::date + 7, 'manual', now(), %(owner)s, c.id
FROM accounts_customer c;

ANALYZE;
"""


def build(customers: int) -> tuple[object, float]:
    """Build the company; return carla and the seconds the nightly health scores took."""
    import time

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import Customer
    from accounts.roles import CSM
    from metrics.health_snapshots import health_snapshot_write
    from web.selectors import today

    carla = get_user_model().objects.create_user("carla", password="x")
    carla.groups.add(Group.objects.get_or_create(name=CSM)[0])
    day = today()
    with connection.cursor() as cursor:
        for statement in BUILD.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"n": customers, "owner": carla.pk, "today": day})
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    for i in range(0, len(ids), CHUNK):  # what the nightly task does, chunk by chunk
        health_snapshot_write(day, ids[i : i + CHUNK])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would soon after the nightly write (index-only scans)
    return carla, seconds


def database(customers: int) -> str:
    return f"csp_bench_portfolio_{customers}"


def build_part(customers: int) -> dict:
    """Build the company of `customers` in its database (created by `main`, kept for the measuring part)."""
    common.setup_django(f"{common.SERVER}/{database(customers)}")
    from django.db import connection

    from web.selectors import PortfolioFilters, portfolio

    carla, nightly = build(customers)
    found = portfolio(carla, PortfolioFilters())
    connection.close()
    return {
        "customers": customers, "nightly_scores_s": round(nightly, 1),
        "shown": {"total": found.total, "bands": found.bands, "mrr": str(found.mrr_total)},
    }  # fmt: skip


def measure_part(sizes: list[int], repeat: int) -> dict:
    """Time every page at every size in one process, the sizes interleaved request by request (each
    size's database on its own connection, swapped in as the default): a change of the machine's load
    during the run weighs on every size alike, so the ratios compare like with like."""
    import statistics
    import time

    common.setup_django(f"{common.SERVER}/{database(sizes[0])}", migrate=False)
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client

    wrappers = {}
    for n in sizes:
        connections.settings[f"size_{n}"] = {**connections.settings["default"], "NAME": database(n)}
        wrappers[n] = connections[f"size_{n}"]

    def use(n):
        connections["default"] = wrappers[n]

    clients, urls = {}, {}
    for n in sizes:
        use(n)
        clients[n] = Client()
        clients[n].force_login(get_user_model().objects.get(username="carla"))
        urls[n] = pages_of(clients[n], n)
    figures = {n: {"middle_page_number": max(2, n // 25 // 2)} for n in sizes}
    for page in PAGES:
        for n in sizes:
            use(n)
            for _ in range(2):  # warm: templates, the database's buffers
                assert clients[n].get(urls[n][page]).status_code == 200, (n, page)
            queries = []
            with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
                response = clients[n].get(urls[n][page])
            assert b"Customer 0" in response.content, (n, page)
            figures[n][page] = {"queries": len(queries), "times": []}
        for round_ in range(repeat):
            for n in sizes[round_ % len(sizes) :] + sizes[: round_ % len(sizes)]:  # each size first in turn
                use(n)
                started = time.perf_counter()
                clients[n].get(urls[n][page])
                figures[n][page]["times"].append(time.perf_counter() - started)
        for n in sizes:
            times = figures[n][page].pop("times")
            figures[n][page]["median_ms"] = round(statistics.median(times) * 1000, 1)
    for n in sizes:
        use(n)
        connection.close()
    return {str(n): f for n, f in figures.items()}


def pages_of(client, customers: int) -> dict:
    """The page of each name at this size (the cursor pages by following Next links, as a CSM would)."""
    middle = max(2, customers // 25 // 2)
    return {
        "first_page": "/",
        "sort_mrr": "/?sort=-mrr",
        "sort_health": "/?sort=health",
        "sort_mrr_change": "/?sort=mrr_change",
        "sort_open_tasks": "/?sort=-open_tasks",
        "sort_open_tickets": "/?sort=-open_tickets",
        "sort_nps": "/?sort=nps",
        "sort_last_activity": "/?sort=last_activity",
        "band_at_risk": "/?band=at_risk",
        "search": "/?q=Customer+00001",
        "page_2": "/?page=2",
        "middle_page": _next_link(client, f"/?page={middle - 1}"),  # the Next link: a cursor (keyset)
        "middle_page_by_number": f"/?page={middle}",  # an old or typed link: an OFFSET
        "open_tasks_page_2": _next_link(client, "/?sort=-open_tasks"),
        "open_tasks_middle_page": _next_link(client, f"/?sort=-open_tasks&page={middle - 1}"),
    }


PAGES = (
    "first_page", "sort_mrr", "sort_health", "sort_mrr_change", "sort_open_tasks", "sort_open_tickets", "sort_nps",
    "sort_last_activity", "band_at_risk", "search", "page_2", "middle_page", "middle_page_by_number",
    "open_tasks_page_2", "open_tasks_middle_page",
)  # fmt: skip


def _next_link(client, url_path: str) -> str:
    """The portfolio's Next link on `url_path` (what a CSM clicks)."""
    import html
    import re

    found = re.search(r'rel="next" href="([^"]+)"', client.get(url_path).content.decode())
    return "/" + html.unescape(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        common.part_output(build_part(args.build))
        return
    if args.measure:
        common.part_output(measure_part(args.sizes, args.repeat))
        return

    import psycopg

    results = {"load_average_1min_at_start": common.machine()["load_average"][0], "sizes": {}}
    sizes = [str(n) for n in args.sizes]
    with psycopg.connect(f"{common.SERVER}/postgres", autocommit=True) as conn:
        for n in args.sizes:
            conn.execute(f"DROP DATABASE IF EXISTS {database(n)} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database(n)}")
    try:
        for n in args.sizes:
            results["sizes"][str(n)] = common.run_part(Path(__file__), ["--build", str(n)])
            print(n, results["sizes"][str(n)], file=sys.stderr)
        results["load_average_1min_measuring"] = common.machine()["load_average"][0]
        measured = common.run_part(
            Path(__file__), ["--measure", "--sizes", *sizes, "--repeat", str(args.repeat)]
        )
        results["load_average_1min_after"] = common.machine()["load_average"][0]
        results["measuring_max_rss_mb"] = measured.pop("max_rss_mb")
        for n in sizes:
            results["sizes"][n].update(measured[n])
    finally:
        with psycopg.connect(f"{common.SERVER}/postgres", autocommit=True) as conn:
            for n in args.sizes:
                conn.execute(f"DROP DATABASE IF EXISTS {database(n)} WITH (FORCE)")
    base = results["sizes"][sizes[0]]
    results["ratios_to_first_size"] = {
        n: {
            page: {
                "queries": round(figures[page]["queries"] / base[page]["queries"], 2),
                "median_ms": round(figures[page]["median_ms"] / base[page]["median_ms"], 2),
            }
            for page in PAGES
        }
        for n, figures in results["sizes"].items()
    }
    out = common.write_results("portfolio", results)
    for page in PAGES:
        cells = [
            f"{n}: {f[page]['queries']} q, {f[page]['median_ms']} ms (×{results['ratios_to_first_size'][n][page]['median_ms']})"
            for n, f in results["sizes"].items()
        ]
        print(f"{page:22} " + " | ".join(cells))
    nightly = ", ".join(f"{n}: {f['nightly_scores_s']} s" for n, f in results["sizes"].items())
    load = (results["load_average_1min_at_start"], results["load_average_1min_measuring"], results["load_average_1min_after"])
    print(f"nightly health scores (not part of the page): {nightly}; load at start / measuring / after: {load}")
    print(f"written to {out.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
