"""Health model versions, the CSM rating component and the daily score snapshots."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from metrics.health import customer_health
from metrics.health_snapshots import band_changes_for_user, health_history, health_snapshot_write
from metrics.health_versions import (
    PublishError,
    default_model,
    definition_of,
    model_publish,
    model_version_create,
    models_for_customers,
)
from metrics.models import BacktestRun, CsmRating, HealthModel, HealthScore, UserDayActivity
from metrics.tasks import health_snapshot_chunk, health_snapshots_daily
from tests.factories import ContactFactory, CustomerFactory, SubscriptionFactory

D = datetime.date
WEIGHTS = {"frequency": 25, "breadth": 20, "depth": 20, "sentiment": 15, "support": 10, "growth": 10}


@pytest.fixture
def active_customer(db, csm):
    customer = CustomerFactory(owner=csm)
    SubscriptionFactory(customer=customer, started_at=D(2023, 1, 1))
    contacts = [ContactFactory(customer=customer) for _ in range(2)]
    for day in range(1, 13):
        UserDayActivity.objects.create(customer=customer, contact=contacts[0], day=D(2024, 2, day), events=3)
    return customer


def test_the_first_model_is_the_settings_default_and_published(db):
    model = default_model()
    assert (model.version, model.status, model.label) == (1, "published", "health-v1")
    assert model.weights["frequency"] == 25 and model.weights["csm_rating"] == 0
    assert default_model() == model  # not a second one


def test_a_change_is_a_new_draft_version_and_the_old_row_stays(db):
    v1 = default_model()
    v2 = model_version_create(weights={**WEIGHTS, "frequency": 40}, based_on=v1)
    v1.refresh_from_db()
    assert (v2.version, v2.status, v2.weights["frequency"]) == (2, "draft", 40)
    assert v1.weights["frequency"] == 25 and v1.status == "published"


def test_negative_or_all_zero_weights_are_refused(db):
    with pytest.raises(ValueError):
        model_version_create(weights={"frequency": -1})
    with pytest.raises(ValueError):
        model_version_create(weights={})


def test_a_draft_cannot_be_published_without_a_backtest(db):
    default_model()
    v2 = model_version_create(weights=WEIGHTS)
    with pytest.raises(PublishError):
        model_publish(model=v2)
    BacktestRun.objects.create(model=v2, dates=[], result={})
    model_publish(model=v2)
    assert HealthModel.objects.get(version=1).status == "retired"
    assert HealthModel.objects.get(version=2).status == "published"
    with pytest.raises(PublishError):
        model_publish(model=v2)  # already published


def test_two_published_versions_of_one_segment_are_impossible(db):
    default_model()
    with pytest.raises(IntegrityError):
        model_version_create(weights=WEIGHTS, status="published")


def test_a_segment_model_scores_its_segment_and_the_default_the_rest(db):
    default_model()
    smb = model_version_create(weights=WEIGHTS, segment="SMB", status="published")
    groups = {model.label: sorted(ids) for model, ids in models_for_customers({1: "SMB", 2: "Enterprise", 3: ""})}
    assert groups == {smb.label: [1], "health-v1": [2, 3]}


def test_weights_and_target_of_a_version_change_the_score(active_customer):
    base = customer_health(active_customer.pk, D(2024, 3, 1))
    strict = model_version_create(weights={"frequency": 1}, key_features=["login"])
    strict.target_active_days = 24  # an unsaved variant: only the definition matters here
    scored = customer_health(active_customer.pk, D(2024, 3, 1), definition_of(strict))
    assert base.components["frequency"].score == 100
    assert scored.components["frequency"].score == 50 and scored.score == Decimal("50.0")


def test_the_csm_rating_counts_when_weighted_and_expires(active_customer, csm):
    model = model_version_create(weights={"csm_rating": 1})
    created = datetime.datetime(2024, 1, 10, tzinfo=datetime.UTC)
    CsmRating.objects.create(customer=active_customer, author=csm, rating=2, comment="Champion left", created_at=created,
                             expires_on=D(2024, 4, 9))  # fmt: skip
    health = customer_health(active_customer.pk, D(2024, 3, 1), definition_of(model))
    assert health.components["csm_rating"].score == 25
    assert health.components["csm_rating"].inputs == {"rating": 2, "comment": "Champion left"}
    expired = customer_health(active_customer.pk, D(2024, 4, 10), definition_of(model))
    assert expired.components["csm_rating"].score is None
    assert "csm_rating" not in customer_health(active_customer.pk, D(2024, 3, 1)).components  # weight 0: left out


def test_snapshots_are_upserted_once_per_customer_day_and_version(active_customer):
    assert health_snapshot_write(D(2024, 3, 1)) == 1
    assert health_snapshot_write(D(2024, 3, 1)) == 1
    row = HealthScore.objects.get()
    assert (row.day, row.model.label, row.band) == (D(2024, 3, 1), "health-v1", row.band)
    assert set(row.components) == set(WEIGHTS)
    assert row.components["frequency"]["inputs"]["active_user_days"] == 12


def test_the_daily_task_runs_twice_and_leaves_one_row(active_customer, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    health_snapshots_daily("2024-03-01")
    health_snapshots_daily("2024-03-01")
    health_snapshot_chunk([active_customer.pk], "2024-03-01")
    assert HealthScore.objects.count() == 1


def test_a_draft_never_scores_the_daily_snapshots(active_customer):
    default_model()
    model_version_create(weights={"growth": 1})
    health_snapshot_write(D(2024, 3, 1))
    assert set(HealthScore.objects.values_list("model__version", flat=True)) == {1}


def test_history_and_band_changes_of_a_csm(active_customer, csm, outsider):
    model = default_model()
    for day, score, band in [(D(2024, 3, 1), 75, "healthy"), (D(2024, 3, 2), 72, "healthy"), (D(2024, 3, 3), 55, "neutral")]:
        HealthScore.objects.create(customer=active_customer, day=day, model=model, score=score, band=band,
                                   computed_at=datetime.datetime(2024, 3, 3, tzinfo=datetime.UTC))  # fmt: skip
    assert [h.score for h in health_history(active_customer.pk, D(2024, 3, 3))] == [75, 72, 55]
    changes = band_changes_for_user(csm, D(2024, 3, 3))
    assert [(c["from_band"], c["to_band"], c["worse"]) for c in changes] == [("healthy", "neutral", True)]
    assert band_changes_for_user(outsider, D(2024, 3, 3)) == []
    assert band_changes_for_user(csm, D(2024, 3, 12)) == []  # more than 7 days ago


def test_editing_a_model_in_admin_adds_a_new_draft_version(client, admin_user):
    v1 = default_model()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/metrics/healthmodel/{v1.pk}/change/",
        {"name": "Default", "weights": '{"frequency": 50, "breadth": 10}', "target_active_days": 10, "key_features": "[]"},
    )
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.weights["frequency"] == 25 and v1.status == "published"
    v2 = HealthModel.objects.get(version=2)
    assert (v2.status, v2.weights["frequency"], v2.target_active_days, v2.based_on) == ("draft", 50, 10, v1)


def test_health_snapshots_command_backfills_scored_days(db, capsys):
    from django.core.management import call_command

    from metrics.models import HealthScore
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(2)
    call_command("health_snapshots", "--start", "2024-01-01", "--end", "2024-01-15", "--every", "7")
    assert "wrote 4 health scores for 2 days" in capsys.readouterr().out
    assert sorted(set(HealthScore.objects.values_list("day", flat=True))) == [
        datetime.date(2024, 1, 1), datetime.date(2024, 1, 8),
    ]  # fmt: skip
    call_command("health_snapshots", "--start", "2024-01-01", "--end", "2024-01-15", "--every", "7")
    assert HealthScore.objects.count() == 4  # upserts: a re-run adds nothing
