"""Churn features, probabilities and publishing with the database: exact values worked by hand,
idempotent daily scores, the publishing gate, and the churn_risk alert kind."""

import datetime
from decimal import Decimal

import pytest

from alerts import conditions
from churn import training
from churn.features import features_at
from churn.models import ChurnModel, ChurnScore
from churn.scoring import scores_write
from churn.selectors import risk_summary, risks_for_customers
from metrics.models import CsmRating
from tests.churn_support import stored_model
from tests.factories import (
    ContactFactory,
    CustomerDayFeatureFactory,
    CustomerFactory,
    SubscriptionFactory,
    SurveyResponseFactory,
    TicketFactory,
    UsageSessionFactory,
    UserDayActivityFactory,
)

D = datetime.date
DAY = D(2024, 6, 1)


def _at(day, hour=10):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@pytest.fixture
def account(db, settings):
    """A monthly customer worked by hand (see the expected values below), a yearly one and a trial."""
    settings.CSPLATFORM_KEY_FEATURES = ["export", "report", "api"]
    customer = CustomerFactory(name="Worked example")
    SubscriptionFactory(customer=customer, started_at=D(2024, 1, 1), ended_at=D(2024, 4, 1), mrr=Decimal(100))
    SubscriptionFactory(customer=customer, started_at=D(2024, 4, 1), ended_at=D(2024, 8, 1), mrr=Decimal(150))
    first, second, *_ = [ContactFactory(customer=customer) for _ in range(4)]
    for n in range(10):  # the 30 days before: 15 user-days of 2 users, 40 events
        UserDayActivityFactory(customer=customer, contact=first, day=D(2024, 5, 22) + datetime.timedelta(days=n), events=3)
    for n in range(5):
        UserDayActivityFactory(customer=customer, contact=second, day=D(2024, 5, 2) + datetime.timedelta(days=n), events=2)
    for n in range(25):  # the 30 before those: 25 user-days
        UserDayActivityFactory(customer=customer, contact=first if n < 15 else second,
                               day=D(2024, 4, 3) + datetime.timedelta(days=n % 15))  # fmt: skip
    UserDayActivityFactory(customer=customer, contact=first, day=DAY, events=50)  # the day itself: not known yet
    for n in range(3):
        UsageSessionFactory(customer=customer, contact=first, started_at=_at(D(2024, 5, 25 + n)),
                            ended_at=_at(D(2024, 5, 25 + n), 11))  # fmt: skip
    for event_type in ("export", "report", "login"):
        CustomerDayFeatureFactory(customer=customer, day=D(2024, 5, 20), event_type=event_type)
    TicketFactory(customer=customer, opened_at=_at(D(2024, 5, 10)))  # still open
    TicketFactory(customer=customer, opened_at=_at(D(2024, 4, 1)), resolved_at=_at(D(2024, 4, 2)), contacts_count=1)
    TicketFactory(customer=customer, opened_at=_at(D(2024, 5, 20)), resolved_at=_at(D(2024, 6, 3)), contacts_count=2)
    TicketFactory(customer=customer, opened_at=_at(D(2024, 1, 1)), resolved_at=_at(D(2024, 1, 2)), contacts_count=1)
    SurveyResponseFactory(customer=customer, contact=first, score=9, responded_at=_at(D(2024, 2, 1)))
    SurveyResponseFactory(customer=customer, contact=second, score=4, responded_at=_at(D(2024, 5, 15)),
                          comment="Slow.", sentiment=Decimal("-0.5"))  # fmt: skip
    SurveyResponseFactory(customer=customer, contact=second, score=10, responded_at=_at(D(2024, 6, 2)))  # after
    SurveyResponseFactory(customer=customer, contact=first, survey_type="csat", score=3, responded_at=_at(D(2024, 5, 1)))
    CsmRating.objects.create(customer=customer, rating=2, comment="Budget cuts.", created_at=_at(D(2024, 5, 1)),
                             expires_on=D(2024, 7, 30))  # fmt: skip
    yearly = CustomerFactory(name="Yearly")
    SubscriptionFactory(customer=yearly, started_at=D(2024, 4, 1), mrr=Decimal(80), billing_period_months=12)
    trial = CustomerFactory(name="Trial")
    SubscriptionFactory(customer=trial, started_at=D(2024, 5, 20), mrr=Decimal(0), is_trial=True)
    return {"customer": customer, "yearly": yearly, "trial": trial}


def test_features_as_of_a_day_match_the_worked_example(account, django_assert_max_num_queries):
    ids = [c.pk for c in account.values()]
    with django_assert_max_num_queries(16):  # a fixed number, whatever the number of customers
        found = features_at(ids, DAY)
    assert set(found) == {account["customer"].pk, account["yearly"].pk}  # the trial does not pay
    f = found[account["customer"].pk]
    assert f["active_days_per_user"] == 7.5 and f["active_days_per_known_user"] == 3.75
    assert f["events_per_active_user"] == 20.0 and f["sessions_per_active_user"] == 1.5
    assert f["activity_trend"] == -0.25  # (15 − 25) / (15 + 25)
    assert f["days_since_last_active"] == 1.0 and f["active_user_share"] == 0.5
    assert f["key_features_used"] == pytest.approx(2 / 3)
    assert f["mrr"] == 150.0 and f["mrr_change_90d"] == 0.5 and f["tenure_months"] == pytest.approx(152 / 30.4375)
    assert f["annual_billing"] == 0.0 and f["renewal_due"] == 1.0
    assert f["open_tickets"] == 2.0 and f["tickets_90d"] == 3.0  # the ticket resolved after the day was open then
    assert f["first_contact_resolution"] == 1.0 and f["hours_to_resolve"] == 24.0
    assert f["latest_nps"] == 4.0 and f["nps_detractor"] == 1.0 and f["latest_csat"] == 3.0 and f["latest_ces"] is None
    assert f["comment_sentiment"] == -0.5 and f["csm_rating"] == 2.0
    yearly = found[account["yearly"].pk]
    assert yearly["annual_billing"] == 1.0 and yearly["renewal_due"] == 0.0  # renews 1 Apr 2025
    assert yearly["mrr_change_90d"] is None and yearly["days_since_last_active"] == 91.0


def test_a_yearly_contract_is_due_within_the_horizon_before_its_renewal(account):
    assert features_at([account["yearly"].pk], D(2024, 12, 31))[account["yearly"].pk]["renewal_due"] == 0.0
    assert features_at([account["yearly"].pk], D(2025, 1, 2))[account["yearly"].pk]["renewal_due"] == 1.0


@pytest.mark.django_db
def test_daily_scores_are_upserted_once_per_customer_day_and_version(account):
    model = stored_model()
    assert scores_write(DAY) == 2
    first = {s.customer_id: (s.probability, s.drivers) for s in ChurnScore.objects.all()}
    assert scores_write(DAY) == 2
    assert ChurnScore.objects.count() == 2
    assert {s.customer_id: (s.probability, s.drivers) for s in ChurnScore.objects.all()} == first
    row = ChurnScore.objects.get(customer=account["customer"])
    assert row.model == model and row.mrr == Decimal(150) and 0 < row.probability < 1
    assert row.drivers and row.drivers[0]["logit"] >= row.drivers[-1]["logit"] > 0
    yearly = ChurnScore.objects.get(customer=account["yearly"])
    assert yearly.drivers == [] and yearly.term_ends_on == D(2025, 4, 1)


@pytest.mark.django_db
def test_without_a_published_model_nothing_is_scored(account):
    stored_model(status=ChurnModel.Status.DRAFT)
    assert scores_write(DAY) == 0
    assert risks_for_customers([account["customer"].pk], DAY) == {}
    assert risk_summary([account["customer"].pk], DAY) is None


@pytest.mark.django_db
def test_a_stored_score_wins_over_a_computed_one(account):
    model = stored_model()
    ChurnScore.objects.create(customer=account["customer"], day=DAY, model=model, probability=Decimal("0.5"),
                              mrr=Decimal(150), drivers=[], computed_at=_at(DAY))  # fmt: skip
    risks = risks_for_customers([account["customer"].pk, account["yearly"].pk], DAY)
    assert (risks[account["customer"].pk].probability, risks[account["customer"].pk].source) == (0.5, "snapshot")
    assert risks[account["yearly"].pk].source == "computed"
    summary = risk_summary([account["customer"].pk, account["yearly"].pk], DAY)
    yearly = risks[account["yearly"].pk]
    assert summary["mrr"] == Decimal(230)
    assert summary["mrr_at_risk"] == Decimal(75) + Decimal(80) * Decimal(str(yearly.probability))


@pytest.mark.django_db
def test_only_a_qualifying_draft_is_published_and_the_old_version_retires(admin_user):
    old = stored_model(version=1)
    failed = stored_model(status=ChurnModel.Status.DRAFT, version=2, qualifies=False)
    with pytest.raises(training.PublishError, match="did not beat"):
        training.model_publish(model=failed)
    new = stored_model(status=ChurnModel.Status.DRAFT, version=3, qualifies=True)
    training.model_publish(model=new, user=admin_user)
    old.refresh_from_db(), new.refresh_from_db()
    assert (old.status, new.status, new.published_by) == ("retired", "published", admin_user)
    assert old.retired_at is not None
    with pytest.raises(training.PublishError, match="only a draft"):
        training.model_publish(model=new)


@pytest.mark.django_db
def test_a_version_of_another_feature_list_is_not_published():
    draft = stored_model(status=ChurnModel.Status.DRAFT, qualifies=True, feature_version="0")
    with pytest.raises(training.PublishError, match="feature list"):
        training.model_publish(model=draft)


def test_the_verdict_needs_a_better_auc_beyond_chance_and_a_lower_brier():
    result = {
        "comparison": {"difference": {"auc": 0.08, "ci": [0.01, 0.15]}},
        "model": {"auc": 0.8, "brier": 0.05},
        "health": {"auc": 0.72, "brier": 0.06},
    }
    assert training.judge(result)[0] is True
    result["comparison"]["difference"]["ci"] = [-0.01, 0.15]
    qualifies, checks = training.judge(result)
    assert qualifies is False and [c["ok"] for c in checks] == [False, True]
    result["comparison"]["difference"]["ci"] = [0.01, 0.15]
    result["model"]["brier"] = 0.07
    assert training.judge(result)[0] is False


def test_the_test_dates_are_the_last_ones_and_training_labels_end_before_them():
    dates = [D(2024, 1, 1) + datetime.timedelta(days=7 * n) for n in range(40)]
    split = training.split_dates(dates, test_days=90, horizon=90)
    assert split.test[-1] == dates[-1] and split.test[0] > dates[-1] - datetime.timedelta(days=90)
    assert split.train[-1] + datetime.timedelta(days=90) <= split.test[0]
    short = training.split_dates(dates[:30], test_days=90, horizon=90)  # 203 days: the test window shrinks
    assert short.test[0] > dates[29] - datetime.timedelta(days=56) and len(short.train) >= 4
    assert short.train[-1] + datetime.timedelta(days=90) <= short.test[0]
    with pytest.raises(training.TrainingError, match="training and"):
        training.split_dates(dates[:18], test_days=90, horizon=90)


@pytest.mark.django_db
def test_the_churn_risk_alert_matches_customers_at_or_above_the_threshold(account):
    stored_model()
    ids = [account["customer"].pk, account["yearly"].pk]
    risks = risks_for_customers(ids, DAY)
    threshold = int(100 * risks[account["customer"].pk].probability)
    found = conditions.matches("churn_risk", threshold, DAY, ids)
    assert set(found) == {cid for cid, r in risks.items() if 100 * r.probability >= threshold}
    assert account["customer"].pk in found and found[account["customer"].pk]["model"] == "churn-v1"
    assert conditions.matches("churn_risk", 100, DAY, ids) == {}


@pytest.mark.django_db
def test_the_daily_task_stores_each_paying_customer_once_however_often_it_runs(account):
    from churn import tasks

    stored_model()
    assert tasks.scores_daily(DAY.isoformat()) == 1  # one chunk (eager in tests)
    tasks.scores_daily(DAY.isoformat())
    assert sorted(ChurnScore.objects.values_list("customer_id", flat=True)) == sorted(
        [account["customer"].pk, account["yearly"].pk]
    )


@pytest.mark.django_db
def test_the_weekly_job_without_enough_history_trains_nothing_and_says_why(caplog):
    from churn import tasks

    assert tasks.retrain_weekly("2024-06-01") is None
    assert "churn model not retrained: no dates with a known outcome yet" in caplog.text
    assert not ChurnModel.objects.exists()


def test_many_customers_are_read_in_chunks_with_the_same_result(account, monkeypatch):
    ids = [c.pk for c in account.values()]
    whole = features_at(ids, DAY)
    monkeypatch.setattr("churn.features.CHUNK", 1)
    assert features_at(ids, DAY) == whole
