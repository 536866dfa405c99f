"""Correlated subqueries: one aggregate over the rows that belong to each row of the outer query."""

from django.db.models import OuterRef, Subquery


def aggregate_of(queryset, aggregate, *, to="customer", outer="pk", output_field=None) -> Subquery:
    """Return a subquery of `aggregate` over the rows of `queryset` whose `to` is the outer row's `outer`.

    E.g. `aggregate_of(Ticket.objects.filter(resolved_at=None), Count("pk"))` annotates customers
    with their open tickets (None where there is no row: wrap it in Coalesce for a 0).
    """
    rows = queryset.filter(**{to: OuterRef(outer)}).order_by().values(to).annotate(value=aggregate).values("value")
    return Subquery(rows, output_field=output_field)
