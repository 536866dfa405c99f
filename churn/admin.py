"""Django admin of the churn model: versions and daily probabilities, view-only.

Versions are trained by the weekly job or `manage.py churn_model train` and published from
the model card; probabilities are written by the daily job. An edit here would break the
link between a stored probability and the coefficients that made it.
"""

from django.contrib import admin

from lib.admin_paginators import LargeTableAdmin
from churn.models import ChurnBacktest, ChurnModel, ChurnScore


class ViewOnly:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChurnModel)
class ChurnModelAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["__str__", "status", "qualifies", "train_start", "train_end", "test_start", "test_end", "created_at",
                    "published_at"]  # fmt: skip
    list_filter = ["status", "qualifies"]
    exclude = ["params", "evaluation"]  # large: the model card shows them

    def has_delete_permission(self, request, obj=None):
        return False  # probabilities point at versions


@admin.register(ChurnBacktest)
class ChurnBacktestAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["__str__", "model", "start", "end", "created_at"]
    exclude = ["evaluation"]


@admin.register(ChurnScore)
class ChurnScoreAdmin(ViewOnly, LargeTableAdmin):
    list_display = ["day", "customer", "probability", "mrr", "model", "computed_at"]
    list_filter = [("day", admin.DateFieldListFilter)]
    list_select_related = ["customer", "model"]
    search_fields = ["=customer__external_id"]
    raw_id_fields = ["customer"]
    ordering = ["-day"]
