"""Churn probabilities on a day: computed with a model version, stored as daily snapshots.

`risks_computed` scores customers with any stored version, in bulk (the features of all
of them with a fixed number of queries); with `explain` it adds each customer's top
drivers, which needs the features 30 days earlier too. `scores_write` upserts the
published version's probabilities of a day: a re-run rewrites the same rows. The day is
an argument; only the beat entry points in `churn.tasks` read the clock.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import Customer
from churn import prediction
from churn.drivers import top_drivers
from churn.feature_list import FEATURE_VERSION, column_names, design_row
from churn.features import features_at
from churn.models import ChurnModel, ChurnScore

LOOKBACK_DAYS = 30  # drivers compare a value with the one this many days before
CHUNK = 500


@dataclass
class Risk:
    customer_id: int
    day: datetime.date
    probability: float
    mrr: Decimal
    model: ChurnModel
    source: str  # "snapshot" (stored that day) or "computed" (now, with `model`)
    drivers: list = field(default_factory=list)
    term_ends_on: datetime.date | None = None  # the end of the last current contract term

    @property
    def mrr_at_risk(self) -> Decimal:
        return self.mrr * Decimal(str(self.probability))


def usable(model: ChurnModel | None) -> bool:
    """Whether a stored version can score with today's feature list."""
    return model is not None and model.feature_version == FEATURE_VERSION and model.columns == column_names()


def risks_computed(model: ChurnModel, customer_ids, day: datetime.date, *, explain: bool = False) -> dict[int, Risk]:
    """Return {customer: Risk} for the customers paying at the start of `day`, scored with `model`."""
    raw = features_at(customer_ids, day, model.horizon_days)
    ids = sorted(raw)
    rows = [design_row(raw[cid]) for cid in ids]
    probabilities = prediction.predict(model.params, rows)
    before = features_at(ids, day - datetime.timedelta(days=LOOKBACK_DAYS), model.horizon_days) if explain else {}
    risks = {}
    for cid, row, probability in zip(ids, rows, probabilities, strict=True):
        drivers = top_drivers(model.params, row, raw[cid], before.get(cid)) if explain else []
        risks[cid] = Risk(
            cid, day, probability, raw[cid]["context"]["mrr"], model, "computed", drivers,
            datetime.date.fromisoformat(raw[cid]["context"]["term_ends_on"]),
        )  # fmt: skip
    return risks


def scores_write(day: datetime.date, customer_ids=None, *, model: ChurnModel | None = None, computed_at=None) -> int:
    """Score the customers (default: all) paying at the start of `day` with the published version; upsert rows."""
    model = model or ChurnModel.objects.filter(status=ChurnModel.Status.PUBLISHED).first()
    if not usable(model):
        return 0
    ids = sorted(customer_ids if customer_ids is not None else Customer.objects.values_list("pk", flat=True))
    computed_at = computed_at or timezone.now()
    written = 0
    for start in range(0, len(ids), CHUNK):
        risks = risks_computed(model, ids[start : start + CHUNK], day, explain=True)
        rows = [
            ChurnScore(customer_id=r.customer_id, day=day, model=model, probability=round(Decimal(str(r.probability)), 5),
                       mrr=r.mrr, drivers=r.drivers, term_ends_on=r.term_ends_on, computed_at=computed_at)  # fmt: skip
            for r in risks.values()
        ]
        ChurnScore.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["customer", "day", "model"],
            update_fields=["probability", "mrr", "drivers", "term_ends_on", "computed_at"],
        )  # fmt: skip
        written += len(rows)
    return written
