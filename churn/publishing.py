"""Publishing a churn model version: the only write the model card makes itself.

Apart from `churn.training` because training imports NumPy and scikit-learn: a web
worker publishes a version without loading them (see tests/test_lean_imports.py).
"""

from django.db import transaction
from django.utils import timezone

from churn.feature_list import FEATURE_VERSION, column_names
from churn.models import ChurnModel


class PublishError(Exception):
    """The version cannot be published."""


@transaction.atomic
def model_publish(*, model: ChurnModel, user=None) -> ChurnModel:
    """Publish a qualifying draft and retire the published version."""
    model = ChurnModel.objects.select_for_update().get(pk=model.pk)
    if model.status != ChurnModel.Status.DRAFT:
        raise PublishError("only a draft can be published")
    if not model.qualifies:
        raise PublishError("it did not beat the health score on its held-out dates")
    if model.feature_version != FEATURE_VERSION or model.columns != column_names():
        raise PublishError("it was trained on another feature list: train a new version")
    now = timezone.now()
    for retired in ChurnModel.objects.select_for_update().filter(status=ChurnModel.Status.PUBLISHED):
        retired.status, retired.retired_at = ChurnModel.Status.RETIRED, now
        retired.save(update_fields=["status", "retired_at"])
    model.status, model.published_at, model.published_by = ChurnModel.Status.PUBLISHED, now, user
    model.save(update_fields=["status", "published_at", "published_by"])
    return model
