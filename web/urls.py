"""URLs of the CSM web app."""

from django.urls import path

from web import views

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
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_action, name="token"),
]
