"""What the churn app does when a lower app reports a change (connected in `ChurnConfig.ready()`)."""

import datetime

from churn.selectors import day_risks_forget
from metrics.periods import reporting_tz


def import_finished(sender, result, **kwargs):
    """Forget today's stored churn probabilities of the customers an import (or API write) touched;
    the pages score them again from the new data."""
    if result.touched_customer_ids:
        day_risks_forget(result.touched_customer_ids, datetime.datetime.now(reporting_tz()).date())
