"""The demo simulator: deterministic CSVs in the import's formats, churn driven by
observable health drivers, and a small run through the real import."""

import csv
import datetime
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command

from accounts.models import Customer, Subscription, Ticket, UsageEvent
from importing.runner import KINDS as IMPORT_KINDS
from simulation import COLUMNS, KINDS, Simulation, SimulationConfig, catalog, texts, write_kind
from simulation.usage import customer_events
from surveys.models import SurveyResponse

END = datetime.date(2025, 7, 1)


@pytest.fixture(scope="module")
def default_simulation():
    return Simulation(SimulationConfig(end=END))


def _write_all(config, directory):
    simulation = Simulation(config)
    return {kind: write_kind(simulation, kind, directory)[0].read_bytes() for kind in KINDS}


def _read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_writes_identical_csv_bytes(tmp_path):
    config = SimulationConfig(end=END, customers=40, months=6, seed=7)
    first, second = _write_all(config, tmp_path / "a"), _write_all(config, tmp_path / "b")
    assert all(first[kind] for kind in KINDS)
    assert first == second


def test_different_seed_writes_different_csvs(tmp_path):
    first = _write_all(SimulationConfig(end=END, customers=40, months=6, seed=7), tmp_path / "a")
    second = _write_all(SimulationConfig(end=END, customers=40, months=6, seed=8), tmp_path / "b")
    assert [kind for kind in KINDS if first[kind] == second[kind]] == []


def test_files_use_the_import_columns(tmp_path):
    simulation = Simulation(SimulationConfig(end=END, customers=10, months=3))
    for kind in KINDS:
        path, _rows = write_kind(simulation, kind, tmp_path)
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        importer = IMPORT_KINDS[kind]
        assert header == list(COLUMNS[kind])
        assert set(importer.required) <= set(header) <= set(importer.columns()), kind


def test_every_subscription_row_satisfies_the_import_rules(default_simulation):
    keys = set()
    for customer in default_simulation.customers:
        for row in customer.subscriptions:
            assert row.ended_at is None or row.ended_at > row.started_at, row
            assert row.mrr_cents >= 0
            assert row.started_at < END
            assert row.is_trial == (row.mrr_cents == 0)
            assert row.billing_period_months in (1, 12)
            assert row.external_id not in keys
            keys.add(row.external_id)


def test_low_latent_health_churns_more_than_high_health():
    simulation = Simulation(SimulationConfig(end=END, customers=400, seed=3))
    paid = sorted((c for c in simulation.customers if c.first_paid_on), key=lambda c: c.latent_health)
    quarter = len(paid) // 4

    def churn_rate(group):
        return sum(1 for c in group if c.churned_on) / len(group)

    assert churn_rate(paid[:quarter]) > 2 * churn_rate(paid[-quarter:])


def test_a_default_generation_reactivates_some_churned_customers(default_simulation):
    reactivated = [c for c in default_simulation.customers if c.reactivated_on]
    assert reactivated
    for customer in reactivated:
        assert customer.churned_on[0] < customer.reactivated_on[0]
        assert customer.mrr_cents_on(customer.reactivated_on[0]) > 0


def test_trials_convert_for_some_customers_and_not_for_others(default_simulation):
    trials = [c for c in default_simulation.customers if c.trial]
    converted = [c for c in trials if c.first_paid_on]
    assert 0 < len(converted) < len(trials)


def test_annual_plans_are_normalised_to_a_month(default_simulation):
    annual = [s for c in default_simulation.customers for s in c.subscriptions if s.billing_period_months == 12]
    assert annual
    # ten monthly seat prices a year, before any first-term discount
    prices = dict(catalog.TIERS)
    for row in annual:
        assert row.mrr_cents <= round(row.quantity * prices[row.plan] * 10 / 12)


def test_sessions_are_spaced_like_real_usage(default_simulation):
    customer = next(c for c in default_simulation.customers if len(c.activity) > 6)
    times = defaultdict(list)
    for row in customer_events(42, customer):
        times[row["user_external_id"]].append(datetime.datetime.fromisoformat(row["occurred_at"]))
    gaps = Counter()
    for instants in times.values():
        for earlier, later in zip(instants, instants[1:]):
            seconds = (later - earlier).total_seconds()
            assert 60 <= seconds <= 600 or seconds > 1800, seconds
            gaps["in session" if seconds <= 600 else "between"] += 1
    assert gaps["in session"] and gaps["between"]


def test_events_per_default_run_stay_in_the_budget(default_simulation):
    events = sum(1 for _ in default_simulation.rows("usage_events"))
    assert 100_000 <= events <= 300_000
    types = {row["event_type"] for row in customer_events(42, default_simulation.customers[0])}
    assert "login" in types


def test_comments_match_the_score_in_german_and_english(default_simulation):
    languages = Counter()
    for customer in default_simulation.customers:
        for response in customer.responses:
            if response.comment:
                mood = texts.sentiment(response.survey_type, response.score)
                assert response.comment in texts.COMMENTS[(response.contact.language, mood)]
                languages[response.contact.language] += 1
    assert languages["de"] > 50 and languages["en"] > 50


def test_tickets_mix_first_contact_resolution_with_open_and_uncounted_ones(default_simulation):
    tickets = [t for c in default_simulation.customers for t in c.tickets]
    counted = [t for t in tickets if t.contacts_count is not None]
    first_contact = sum(1 for t in counted if t.contacts_count == 1) / len(counted)
    assert 0.55 <= first_contact <= 0.75
    assert any(t.resolved_at is None for t in tickets)
    assert any(t.resolved_at and t.contacts_count is None for t in tickets)
    assert all(t.resolved_at is None or t.resolved_at >= t.opened_at for t in tickets)


def test_converted_leads_name_their_customer_and_convert_when_it_starts_paying(default_simulation):
    customers = {c.external_id: c for c in default_simulation.customers}
    converted = [lead for lead in default_simulation.leads if lead["converted_at"]]
    assert converted and len(converted) < len(default_simulation.leads)
    for lead in converted:
        customer = customers[lead["customer_external_id"]]
        assert lead["created_at"] < lead["converted_at"]
        assert lead["converted_at"].date() == customer.first_paid_on


def test_costs_cover_all_seven_categories_every_month(default_simulation):
    months = Counter(row["month"] for row in default_simulation.costs)
    assert len(months) == 18 and set(months.values()) == {7}


@pytest.mark.django_db
def test_a_small_run_imports_cleanly_and_reimports_without_duplicates(tmp_path, capsys):
    options = {"customers": 40, "months": 8, "end": END, "out": str(tmp_path), "csm": ["carla", "david"]}
    call_command("simulate", **options)  # raises CommandError if any file had an error

    paid_rows = Subscription.objects.filter(is_trial=False)
    assert Customer.objects.count() == 40
    assert Customer.objects.filter(owner__username="carla", created_on__isnull=False).exists()
    assert Subscription.objects.filter(is_trial=True).exists()
    assert any(
        paid_rows.filter(customer=row.customer, started_at=row.ended_at, mrr__gt=row.mrr).exists()
        for row in paid_rows.filter(ended_at__isnull=False)
    ), "no upgrade"
    churned = [c for c in Customer.objects.all() if not paid_rows.filter(customer=c).active_at(END).exists()]
    assert any(paid_rows.filter(customer=c).exists() for c in churned), "no churn"
    assert UsageEvent.objects.count() > 1000
    assert Ticket.objects.exists()
    assert {"de", "en"} <= set(SurveyResponse.objects.values_list("contact__language", flat=True))
    counts = [model.objects.count() for model in (Customer, Subscription, UsageEvent, Ticket, SurveyResponse)]
    assert "responses" in capsys.readouterr().out

    call_command("simulate", **options)
    assert [model.objects.count() for model in (Customer, Subscription, UsageEvent, Ticket, SurveyResponse)] == counts

    call_command("simulate", flush=True, **options)
    assert [model.objects.count() for model in (Customer, Subscription, UsageEvent, Ticket, SurveyResponse)] == counts


def test_the_first_active_day_walks_through_the_customers_onboarding_steps(default_simulation):
    customer = next(c for c in default_simulation.customers if set(catalog.ONBOARDING) <= set(c.features) and c.activity)
    first_day = None
    types = []
    for row in customer_events(42, customer):
        day = row["occurred_at"][:10]
        if first_day not in (None, day):
            break
        first_day = day
        types.append(row["event_type"])
    assert types[: len(catalog.ONBOARDING) + 1] == ["login", *catalog.ONBOARDING]
