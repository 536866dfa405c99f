"""Reads for the CSM screens: portfolio rows, the account 360 page, team reports.

Every figure comes from the KPI engine (`metrics.selectors`, `metrics.health`,
`metrics.rows`); this package only chooses scopes and periods, scopes them to what the
user may see and gathers what a page shows with a fixed number of queries. One module per
thing read:

- `access`: the users who may own a portfolio, a customer a user may see;
- `portfolio`: the portfolio list (filters, keyset sort and cursor, totals by band);
- `account`: the account 360 page (health, MRR, KPIs, charts, contacts);
- `timeline`: an account's tickets, tasks, notes, responses and their timeline;
- `tasks`: a user's tasks, open tasks per customer;
- `report`: the team report, its scopes, and the rows behind a figure;
- `revenue`: the cohort-cell and churn-reason drill-downs.

The public names are re-exported here: `from web.selectors import X` and `selectors.X`.
A test that patches a name a selector calls patches it where it is looked up
(e.g. `web.selectors.report.compute_kpis`).
"""

from accounts.reporting_time import today  # the pages' "today", also for views and forms
from web.selectors.access import csm_users, customer_for_user
from web.selectors.account import (
    ACCOUNT_KPI_KEYS, CHART_MONTHS, Account, account_360, account_contacts, account_health, health_from_snapshot,
    last_months,
)  # fmt: skip
from web.selectors.portfolio import (
    SORTS, Portfolio, PortfolioFilters, PortfolioRow, portfolio, portfolio_row, portfolio_scope, portfolio_segments,
    rows_of,
)  # fmt: skip
from web.selectors.report import (
    COMPARISON_KEYS, REPORT_SECTIONS, TREND_KEYS, Report, default_report_period, drilldown_rows, report_scope_choices,
    report_scope_for, team_report,
)  # fmt: skip
from web.selectors.revenue import cohort_cell_for_user, lost_customers_for_user
from web.selectors.tasks import open_task_counts, tasks_for_user
from web.selectors.timeline import (
    TimelineEntry, account_notes, account_responses, account_tasks, account_tickets, account_timeline,
)  # fmt: skip

__all__ = [
    "ACCOUNT_KPI_KEYS", "CHART_MONTHS", "COMPARISON_KEYS", "REPORT_SECTIONS", "SORTS", "TREND_KEYS",
    "Account", "Portfolio", "PortfolioFilters", "PortfolioRow", "Report", "TimelineEntry",
    "account_360", "account_contacts", "account_health", "account_notes", "account_responses", "account_tasks",
    "account_tickets", "account_timeline", "cohort_cell_for_user", "csm_users", "customer_for_user",
    "default_report_period", "drilldown_rows", "health_from_snapshot", "last_months", "lost_customers_for_user",
    "open_task_counts", "portfolio", "portfolio_row", "portfolio_scope", "portfolio_segments", "report_scope_choices",
    "report_scope_for", "rows_of", "tasks_for_user", "team_report", "today",
]  # fmt: skip
