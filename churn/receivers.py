"""What the churn app does when a lower app reports a change (connected in `ChurnConfig.ready()`)."""

from accounts.reporting_time import today
from accounts.signals import changed_rows
from churn.selectors import day_risks_forget


def import_finished(sender, result, **kwargs):
    """Forget today's stored churn probabilities of the customers an import (or API write) touched;
    the pages score them again from the new data."""
    if result.touched_customer_ids:
        day_risks_forget(result.touched_customer_ids, today())


def data_changed(sender, kind, objs, **kwargs):
    """The same for a record written outside an import (admin, a page)."""
    customer_ids = {r["customer_id"] for r in changed_rows(objs) if r.get("customer_id")}
    if customer_ids:
        day_risks_forget(customer_ids, today())
