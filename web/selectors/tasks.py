"""A user's tasks, and the open tasks of customers."""

from django.db.models import Count

from accounts.models import Task


def tasks_for_user(user, show: str = "open"):
    tasks = Task.objects.filter(assignee=user).select_related("customer")
    if show == "open":
        tasks = tasks.filter(completed_at__isnull=True)
    elif show == "done":
        tasks = tasks.filter(completed_at__isnull=False).order_by("-completed_at")
    return tasks


def open_task_counts(ids) -> dict[int, int]:
    """{customer: open tasks} of the customers in `ids`."""
    rows = Task.objects.filter(customer_id__in=list(ids), completed_at__isnull=True).values("customer_id")
    return {r["customer_id"]: r["n"] for r in rows.annotate(n=Count("pk")).order_by()}
