"""Benchmark: the portfolio and account pages with 10 vs 1,000 customers in the CSM's portfolio.

    .venv/bin/python benchmarks/pages.py [--small 10] [--large 1000] [--repeat 15]

For each size, in its own process and throw-away database (csp_bench_pages_N), the demo
simulator builds a company whose customers all belong to one CSM; the Django test client,
signed in as that CSM, requests each page twice (warm cache), then counts its queries and
takes the median server time of --repeat requests. Pages: "/" (portfolio, first page),
"/?page=2" (25 per page), "/customers/<id>/" (an account). Reports queries and median ms
per page and the ratio large/small; writes benchmarks/results/pages.json.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402


def part(customers: int, repeat: int) -> dict:
    with common.throwaway_database(f"csp_bench_pages_{customers}") as url:
        common.setup_django(url)
        common.simulate(customers)
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from accounts.models import Customer

        csm = get_user_model().objects.get(username="carla")
        Customer.objects.update(owner=csm)  # the simulator leaves some customers unowned: all are hers
        customer = Customer.objects.filter(owner=csm).order_by("pk").first()
        client = Client()
        client.force_login(csm)
        pages = {"portfolio": "/", "portfolio_page_2": "/?page=2", "account": f"/customers/{customer.pk}/"}
        figures = {"customers": Customer.objects.filter(owner=csm).count()}
        for name, url_path in pages.items():
            figures[name] = common.page_figures(client, url_path, repeat)
        connection.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--part", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        common.part_output(part(args.part, args.repeat))
        return

    results = {"load_average_1min_at_start": common.machine()["load_average"][0]}
    for size in ("small", "large"):
        n = getattr(args, size)
        results[size] = common.run_part(Path(__file__), ["--part", str(n), "--repeat", str(args.repeat)])
        print(size, results[size], file=sys.stderr)
    small, large = results["small"], results["large"]
    results["ratio_large_to_small"] = {
        page: {
            "queries": round(large[page]["queries"] / small[page]["queries"], 2),
            "median_ms": round(large[page]["median_ms"] / small[page]["median_ms"], 2),
        }
        for page in ("portfolio", "portfolio_page_2", "account")
    }
    out = common.write_results("pages", results)
    for page, ratio in results["ratio_large_to_small"].items():
        print(
            f"{page}: {small[page]['queries']} → {large[page]['queries']} queries (×{ratio['queries']}), "
            f"{small[page]['median_ms']} → {large[page]['median_ms']} ms (×{ratio['median_ms']}) "
            f"for {small['customers']} → {large['customers']} customers"
        )
    print(f"peak memory {small['max_rss_mb']} / {large['max_rss_mb']} MB; written to {out.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
