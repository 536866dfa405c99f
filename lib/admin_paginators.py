"""Admin change lists for very large tables: a paginator that never counts every row.

Django's change list asks its paginator for `count`, which is a `COUNT(*)` over the
whole (filtered) table: minutes on a table of usage events. `EstimatedCountPaginator`
counts at most `cap + 1` rows instead and, on PostgreSQL, reads the planner's row
estimate for an unfiltered table. `LargeTableAdmin` wires it up with the other
settings a huge table needs.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def planner_row_estimate(queryset):
    """Return PostgreSQL's estimate of the rows in `queryset`'s table, or None when there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table])
        row = cursor.fetchone()
    # reltuples is -1 (PostgreSQL 14+) or 0 until the table has been vacuumed or analysed.
    return row[0] if row and row[0] > 0 else None


class EstimatedCountPaginator(Paginator):
    """A paginator whose `count` is exact up to `cap` rows and an estimate beyond.

    Past `cap`, an unfiltered table reports the planner's estimate (PostgreSQL) and a
    filtered one reports `cap + 1`: the change list then offers the first pages only.
    """

    cap = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        # COUNT(*) over a LIMITed subquery: the database stops after cap + 1 rows.
        capped = queryset.order_by()[: self.cap + 1].count()
        if capped <= self.cap or queryset.query.where:
            return capped
        return max(capped, planner_row_estimate(queryset) or 0)


class LargeTableAdmin(admin.ModelAdmin):
    """A ModelAdmin for tables of millions of rows: no full counts, small pages.

    Subclasses should use `raw_id_fields` for foreign keys and avoid list filters that
    run a SELECT DISTINCT over the table (a plain CharField filter does).
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    list_max_show_all = 0
