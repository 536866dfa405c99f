"""The cohort-cell and churn-reason drill-downs: the customers a user may see, read in the query."""

import datetime

from accounts import policy
from accounts.reporting_time import today
from metrics import cohorts, losses
from metrics.losses import MonthLosses
from metrics.selectors import Scope


def cohort_cell_for_user(user, scope: Scope, month: datetime.date, age: int) -> tuple[list[dict], int]:
    """The customers behind one cohort cell that `user` may see (the scope `seen_by` them, so the policy
    filters in the query), and how many more the cell counts (customers of other portfolios)."""
    rows = cohorts.cohort_customers(scope.seen_by(user), month, age, today())
    if policy.sees_all_customers(user):
        return rows, 0
    return rows, cohorts.cohort_size(scope, month) - len(rows)


def lost_customers_for_user(user, scope: Scope, month: MonthLosses) -> tuple[list[dict], int]:
    """The customers who churned or contracted in `month` (the scope's losses of a month) that `user` may
    see (the scope `seen_by` them, so the policy filters in the query), and how many more `month` counts.
    A user who sees every customer has them all in `month` already: no second read."""
    if policy.sees_all_customers(user):
        return month.customers, 0
    rows = losses.month_losses(scope.seen_by(user), month.period).customers
    return rows, len(month.customers) - len(rows)
