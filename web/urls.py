"""URLs of the CSM web app."""

from django.urls import path

from web import inbox_views, revenue_views, views

app_name = "web"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("portfolio.csv", views.portfolio_export, name="portfolio-export"),
    path("customers/<int:pk>/", views.account, name="account"),
    path("customers/<int:pk>/timeline/", views.account_timeline, name="account-timeline"),
    path("customers/<int:pk>/notes/", views.note_create, name="note-create"),
    path("customers/<int:pk>/tasks/", views.task_create, name="task-create"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("reports/", views.reports, name="reports"),
    path("reports/export.csv", views.report_export, name="report-export"),
    path("reports/rows/<str:key>/", views.report_rows, name="report-rows"),
    path("reports/definitions/", views.kpi_definitions, name="kpi-definitions"),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/count/", inbox_views.inbox_badge, name="inbox-badge"),
    path("inbox/<int:pk>/acknowledge/", inbox_views.alert_acknowledge, name="alert-acknowledge"),
    path("inbox/<int:pk>/snooze/", inbox_views.alert_snooze, name="alert-snooze"),
    path("inbox/<int:pk>/resolve/", inbox_views.alert_resolve, name="alert-resolve"),
    path("renewals/", revenue_views.renewals_page, name="renewals"),
    path("cohorts/", revenue_views.cohorts_page, name="cohorts"),
    path("cohorts/customers/", revenue_views.cohort_cell, name="cohort-cell"),
    path("churn-reasons/", revenue_views.churn_reasons_page, name="churn-reasons"),
    path("customers/<int:pk>/subscriptions/<int:subscription_pk>/reason/", revenue_views.subscription_reason, name="end-reason"),
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_action, name="token"),
]
