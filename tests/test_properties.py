"""Property tests: stored numbers are right after any late data, in any reporting time zone.

For random late batches of each input kind, in UTC and east and west of it, after the
stale run every stored snapshot equals the live value (metrics.verification finds no
drift); and adding data dated on or after a day never changes a health score of that day.
Every example runs in its own rolled-back transaction over the same small company.
"""

import datetime
import zoneinfo

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importing.services import import_and_announce
from metrics import snapshots, tasks
from metrics.health import health_for_customers
from metrics.models import StaleRange
from metrics.periods import Period, add_months
from metrics.selectors import Scope
from metrics.verification import snapshot_drift
from tests.factories import CustomerFactory
from tests.transaction_support import rolled_back

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

ZONES = ("UTC", "Europe/Berlin", "America/New_York")
FIRST = datetime.date(2026, 1, 1)
MONTHS = [Period(add_months(FIRST, i), add_months(FIRST, i + 1)) for i in range(3)]  # January to March 2026
CUSTOMERS = ("A", "B", "C")
EDGES = [p.start for p in MONTHS] + [MONTHS[-1].end]
RUN = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- random data, near the period edges of the reporting time zone -------------------


@st.composite
def instants(draw, zone: str):
    """An instant a few hours around a month's edge in `zone`, or anywhere in the months."""
    if draw(st.booleans()):
        day = draw(st.sampled_from(EDGES))
        local = datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(zone))
        return local + datetime.timedelta(minutes=draw(st.integers(-360, 360)))
    minutes = draw(st.integers(0, (EDGES[-1] - EDGES[0]).days * 1440))
    return datetime.datetime.combine(EDGES[0], datetime.time(), zoneinfo.ZoneInfo(zone)) + datetime.timedelta(minutes=minutes)


def days():
    return st.dates(FIRST - datetime.timedelta(days=20), EDGES[-1] + datetime.timedelta(days=20))


def iso(instant):
    return instant.isoformat()


def usage_events(zone):
    row = st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(["u1", "u2", "u9"]), st.sampled_from(["login", "report"]), instants(zone))
    return st.lists(row, min_size=1, max_size=6).map(
        lambda rows: "customer_external_id,user_external_id,event_type,occurred_at\n"
        + "".join(f"{c},{c}{u},{e},{iso(t)}\n" for c, u, e, t in rows)
    )


@st.composite
def subscriptions(draw, zone):
    lines = []
    for i in range(draw(st.integers(1, 3))):
        start = draw(days())
        end = draw(st.one_of(st.none(), st.integers(1, 80).map(lambda n, s=start: s + datetime.timedelta(days=n))))
        trial = draw(st.booleans())
        mrr = 0 if trial else draw(st.sampled_from([0, 40, 105]))
        lines.append(f"{draw(st.sampled_from(CUSTOMERS))},late{i},{start},{end or ''},{mrr},{str(trial).lower()}\n")
    return "customer_external_id,plan,started_at,ended_at,mrr,is_trial\n" + "".join(lines)


@st.composite
def tickets(draw, zone):
    lines = []
    for i in range(draw(st.integers(1, 3))):
        opened = draw(instants(zone))
        resolved = opened + datetime.timedelta(minutes=draw(st.integers(0, 3000)))
        count = draw(st.sampled_from(["", "1", "2"]))
        lines.append(f"LT{i},{draw(st.sampled_from(CUSTOMERS))},{iso(opened)},{iso(resolved)},{count}\n")
    return "external_id,customer_external_id,opened_at,resolved_at,contacts_count\n" + "".join(lines)


def responses(zone):
    row = st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from([("nps", 10), ("nps", 3), ("csat", 5), ("ces", 2)]), instants(zone))
    return st.lists(row, min_size=1, max_size=4).map(
        lambda rows: "customer_external_id,survey_type,score,responded_at\n"
        + "".join(f"{c},{t},{s},{iso(at)}\n" for c, (t, s), at in rows)
    )


def costs(zone):
    row = st.tuples(st.sampled_from(["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]),
                    st.sampled_from(["cs_payroll", "sales"]), st.integers(1, 5000))  # fmt: skip
    return st.lists(row, min_size=1, max_size=3, unique_by=lambda r: r[:2]).map(
        lambda rows: "month,category,amount\n" + "".join(f"{m},{c},{a}\n" for m, c, a in rows)
    )


@st.composite
def leads(draw, zone):
    lines = []
    for i in range(draw(st.integers(1, 3))):
        created = draw(instants(zone))
        converted = draw(st.one_of(st.none(), st.integers(0, 40000).map(lambda n, c=created: c + datetime.timedelta(minutes=n))))
        lines.append(f"LL{i},{iso(created)},{iso(converted) if converted else ''}\n")
    return "external_id,created_at,converted_at\n" + "".join(lines)


KINDS = {
    "usage_events": usage_events,
    "subscriptions": subscriptions,
    "tickets": tickets,
    "survey_responses": responses,
    "costs": costs,
    "leads": leads,
}


def load(tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    result = import_and_announce(kind, str(path))
    assert result.committed, [str(e) for e in result.errors]


def company(tmp_path):
    """Three customers with subscriptions, users and events, created in the months' zone."""
    for name in CUSTOMERS:
        CustomerFactory(external_id=name, segment="SMB" if name != "C" else "ENT")
    load(tmp_path, "subscriptions", "customer_external_id,plan,started_at,ended_at,mrr\n"
         "A,pro,2025-11-01,,100\nB,pro,2026-01-15,2026-03-01,60\nC,ent,2026-02-01,,300\n")  # fmt: skip
    load(tmp_path, "usage_events", "customer_external_id,user_external_id,event_type,occurred_at\n"
         "A,Au1,login,2026-01-31T23:40:00+00:00\nA,Au1,report,2026-02-01T00:05:00+00:00\n"
         "B,Bu2,login,2026-02-28T22:00:00+00:00\nC,Cu1,login,2026-03-15T12:00:00+00:00\n")  # fmt: skip


@pytest.mark.parametrize("kind", list(KINDS))
def test_after_the_stale_run_every_snapshot_equals_the_live_value(kind, tmp_path_factory):
    @RUN
    @given(data=st.data(), zone=st.sampled_from(ZONES))
    def check(data, zone):
        tmp_path = tmp_path_factory.mktemp(kind)
        with override_settings(CSPLATFORM_REPORTING_TZ=zone), rolled_back():
            company(tmp_path)
            for period in MONTHS:
                for label in snapshots.all_scopes():
                    snapshots.snapshot_write(Scope.from_label(label), period)
            StaleRange.objects.all().delete()
            load(tmp_path, kind, data.draw(KINDS[kind](zone)))
            tasks.snapshots_stale()
            checked, drifts = snapshot_drift()
            assert checked > 0
            assert drifts == [], f"{kind} in {zone}: {drifts[:5]}"

    check()


@RUN
@given(data=st.data(), zone=st.sampled_from(ZONES), kind=st.sampled_from(["usage_events", "tickets", "survey_responses", "subscriptions"]))
def test_data_dated_on_or_after_a_day_never_changes_a_health_score_of_that_day(data, zone, kind, tmp_path_factory, db):
    day = datetime.date(2026, 2, 1)
    tmp_path = tmp_path_factory.mktemp("health")
    with override_settings(CSPLATFORM_REPORTING_TZ=zone), rolled_back():
        company(tmp_path)
        from accounts.models import Customer

        ids = list(Customer.objects.values_list("pk", flat=True))
        before = {c: (h.score, {n: comp.score for n, comp in h.components.items()}) for c, h in health_for_customers(ids, day).items()}
        text = data.draw(KINDS[kind](zone))
        # keep only rows dated on or after the day (subscriptions: starting on or after it)
        header, *rows = text.splitlines()
        start = datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(zone))
        kept = [r for r in rows if _dated_from(kind, header, r, day, start)]
        if kept:
            load(tmp_path, kind, "\n".join([header, *kept]) + "\n")
        after = {c: (h.score, {n: comp.score for n, comp in h.components.items()}) for c, h in health_for_customers(ids, day).items()}
        assert after == before


def _dated_from(kind, header, row, day, start):
    cells = dict(zip(header.split(","), row.split(",")))
    if kind == "subscriptions":
        return datetime.date.fromisoformat(cells["started_at"]) >= day
    column = {"usage_events": "occurred_at", "tickets": "opened_at", "survey_responses": "responded_at"}[kind]
    return datetime.datetime.fromisoformat(cells[column]) >= start
