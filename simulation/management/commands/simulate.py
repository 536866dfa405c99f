"""`manage.py simulate`: generate a demo SaaS company as CSV files and import them."""

import argparse
import datetime
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import reporting_time
from importing.services import import_and_announce
from simulation import KINDS, Simulation, SimulationConfig, write_kind
from simulation.loading import csm_users_ensure, demo_data_flush


def _month_start(text):
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if day.day != 1:
        raise argparse.ArgumentTypeError("must be the first day of a month (the window ends before it)")
    return day


class Command(BaseCommand):
    help = "Simulate a SaaS company (customers, subscriptions, usage, tickets, surveys, costs, leads) and import it."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--months", type=int, default=18)
        parser.add_argument("--end", type=_month_start, help="YYYY-MM-01, exclusive; default: this month's first day")
        parser.add_argument("--csm", nargs="+", default=["carla", "david"], help="usernames of the CSMs (created if missing)")
        parser.add_argument("--events-scale", type=float, default=1.0, help="multiplies events per session (volume)")
        parser.add_argument("--out", help="directory for the CSV files; default VAR_DIR/demo")
        parser.add_argument("--no-import", action="store_true", help="only write the CSV files")
        parser.add_argument("--flush", action="store_true", help="delete all customers, leads and costs first")

    def handle(self, *args, **options):
        started = time.monotonic()
        csms = tuple(name for item in options["csm"] for name in item.split(",") if name)
        try:
            config = SimulationConfig(
                end=options["end"] or reporting_time.today().replace(day=1),
                seed=options["seed"],
                customers=options["customers"],
                months=options["months"],
                csms=csms,
                events_scale=options["events_scale"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        out = Path(options["out"]) if options["out"] else settings.VAR_DIR / "demo"
        if options["flush"]:
            deleted = demo_data_flush()
            self.stdout.write("flushed " + ", ".join(f"{n} {kind}" for kind, n in deleted.items()))
        if not options["no_import"] and csms:
            csm_users_ensure(csms)

        simulation = Simulation(config)
        self.stdout.write(f"simulated {config.customers} customers, {config.start} to {config.end} (seed {config.seed})")
        rows_written = {}
        for kind in KINDS:
            tick = time.monotonic()
            path, rows_written[kind] = write_kind(simulation, kind, out)
            line = f"{kind:<17} {rows_written[kind]:>8} rows"
            if not options["no_import"]:
                result = import_and_announce(kind, path)
                if result.error_count or not result.committed:
                    for error in result.errors[:10]:
                        self.stderr.write(f"{path}: {error}")
                    raise CommandError(f"{kind}: import refused ({result.error_count} errors)")
                line += f"  imported: {result.created} created, {result.updated} updated"
            self.stdout.write(f"{line}  ({time.monotonic() - tick:.1f}s)")

        s = simulation.summary()
        self.stdout.write(
            f"done in {time.monotonic() - started:.1f}s: {s['customers']} customers, {s['paying_now']} paying now, "
            f"MRR now {s['mrr_now']}, {rows_written['usage_events']} events, {s['tickets']} tickets, "
            f"{s['responses']} responses ({s['churned']} churned, {s['reactivated']} reactivated); files in {out}"
        )
