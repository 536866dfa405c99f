"""Benchmark: the portfolio page (`/`) of one CSM owning 100, 5,000 (and 50,000) customers.

    .venv/bin/python benchmarks/portfolio.py [--sizes 100 5000 50000] [--repeat 9]

For each size, in its own process and throw-away database (csp_bench_portfolio_N), SQL
`generate_series` builds a company whose customers all belong to the CSM `carla`: per
customer a subscription (a tenth churned a month ago, a fifth renewing within 200 days),
three contacts, about eleven active user days in the last 30, a ticket, an NPS answer and
an open task. The day's health scores are then written as the nightly task writes them
(`health_snapshot_write`, chunks of 2,000; timed apart as "nightly_scores_s"). The Django
test client, signed in as carla, requests each page twice (warm), counts its queries and
takes the median of --repeat requests. Pages: the first page sorted by name (the default),
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


def part(customers: int, repeat: int) -> dict:
    with common.throwaway_database(f"csp_bench_portfolio_{customers}") as url:
        common.setup_django(url)
        from django.db import connection
        from django.test import Client

        carla, nightly = build(customers)
        client = Client()
        client.force_login(carla)
        middle = max(2, customers // 25 // 2)
        pages = {
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
        figures = {"customers": customers, "nightly_scores_s": round(nightly, 1), "middle_page_number": middle}
        for name, url_path in pages.items():
            figures[name] = common.page_figures(client, url_path, repeat, expect=b"Customer 0")
        from web.selectors import PortfolioFilters, portfolio

        found = portfolio(carla, PortfolioFilters())
        figures["shown"] = {"total": found.total, "bands": found.bands, "mrr": str(found.mrr_total)}
        connection.close()
    return figures


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
    parser.add_argument("--part", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        common.part_output(part(args.part, args.repeat))
        return

    results = {"load_average_1min_at_start": common.machine()["load_average"][0], "sizes": {}}
    for n in args.sizes:
        results["sizes"][str(n)] = common.run_part(Path(__file__), ["--part", str(n), "--repeat", str(args.repeat)])
        print(n, results["sizes"][str(n)], file=sys.stderr)
    base = results["sizes"][str(args.sizes[0])]
    results["ratios_to_first_size"] = {
        str(n): {
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
    print(f"nightly health scores (not part of the page): {nightly}; written to {out.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
