"""Lost MRR by reason and month: the churn and contraction movements of the revenue KPIs, each given the
reason recorded on the subscription that ended in that month.

A customer's movement in a month is `kpis.movement_of` (the same as `mrr_churn` and `mrr_contraction`);
its reason is the `end_reason` of its subscription rows that ended within the month (ended_at in
(start, end]: the first day no longer covered falls in the month or is its end), the largest MRR first.
A loss without such a row, or whose rows carry no reason, counts under "no reason given" (None).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import ChurnReason, Subscription
from metrics import kpis
from metrics.periods import Period, add_months
from metrics.rows import customer_movements
from metrics.selectors import Scope

LOSSES = ("churn", "contraction")


@dataclass
class MonthLosses:
    period: Period
    by_reason: dict  # reason id (None: no reason given) -> lost MRR
    customers: list[dict]  # one row per losing customer: customer_id, customer, movement, amount, reason

    @property
    def total(self) -> Decimal:
        return sum(self.by_reason.values(), Decimal(0))


def reasons_for(customer_ids, period: Period) -> dict[int, int]:
    """Return {customer: reason id} from its rows that ended in `period` with a reason, the largest MRR first."""
    rows = (
        Subscription.objects.filter(
            customer_id__in=customer_ids, end_reason__isnull=False, ended_at__gt=period.start, ended_at__lte=period.end
        )
        .order_by("customer_id", "-mrr", "pk")
        .values_list("customer_id", "end_reason_id")
    )
    found: dict[int, int] = {}
    for customer_id, reason_id in rows:
        found.setdefault(customer_id, reason_id)
    return found


def month_losses(scope: Scope, period: Period) -> MonthLosses:
    rows = [r for r in customer_movements(scope, period) if r["movement"] in LOSSES]
    lost = {r["customer_id"]: Decimal(r["movement_amount"]) for r in rows}
    reasons = reasons_for(lost, period)
    customers = [
        {
            "customer_id": r["customer_id"],
            "customer": r["customer"],
            "movement": r["movement"],
            "amount": lost[r["customer_id"]],
            "reason": reasons.get(r["customer_id"]),
        }
        for r in rows
    ]
    return MonthLosses(period, kpis.lost_mrr_by_reason(lost, reasons), customers)


def losses_by_month(scope: Scope, last_month: datetime.date, months: int) -> list[MonthLosses]:
    """Lost MRR by reason for `months` calendar months ending with the month of `last_month`, oldest first."""
    first = add_months(last_month.replace(day=1), -(months - 1))
    return [month_losses(scope, Period(add_months(first, i), add_months(first, i + 1))) for i in range(months)]


def reason_labels(language: str | None) -> dict:
    """{reason id: label in `language`} of every reason, and None: "no reason given" (for the caller to translate)."""
    return {r.pk: r.label_for(language) for r in ChurnReason.objects.all()}
