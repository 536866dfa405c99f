"""The portfolio's tallies: the day's complete stored health rows counted by owner, segment, band and
former flag, and the customers by owner and segment (`PortfolioTally`, `PortfolioCustomerTally`,
kept by the database triggers of migration 0009). A portfolio's totals are read from a few tally rows
instead of a pass over every customer; `tally_recount` is what the triggers must always equal."""

import datetime
from decimal import Decimal

from django.apps import apps as global_apps
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from accounts.models import Customer
from metrics.health_versions import published_models
from metrics.models import HealthScore, PortfolioCustomerTally, PortfolioTally


def _counting(published, fallback) -> Q:
    """The tally rows of the published models, as `health_snapshots.day_scores` picks each customer's row."""
    own = [segment for segment in published if segment]
    which = Q(model_id=fallback.pk) & ~Q(segment__in=own) if own else Q(model_id=fallback.pk)
    for segment in own:
        which |= Q(model_id=published[segment].pk, segment=segment)
    return which


def tally_totals(day: datetime.date, owners: list[int] | None, segment: str = "", status: str = "") -> dict:
    """{band: {customers, paying, mrr}} of the customers owned by `owners` (their ids; None: every customer)
    in `segment` ("" any) with the status `status` ("": not former, "former", "all") whose row of `day` is
    stored, and under None the customers with no complete row of the day (of every status): two queries."""
    published, fallback = published_models()
    rows = PortfolioTally.objects.filter(_counting(published, fallback), day=day)
    customers = PortfolioCustomerTally.objects.all()
    if owners is not None:
        rows, customers = rows.filter(owner_key__in=owners), customers.filter(owner_key__in=owners)
    if segment:
        rows, customers = rows.filter(segment=segment), customers.filter(segment=segment)
    grouped = rows.values("band", "former").annotate(n=Sum("customers"), p=Sum("paying"), m=Sum("mrr")).order_by()
    groups, scored = {}, 0
    for row in grouped:
        scored += row["n"]
        if status == "all" or row["former"] == (status == "former"):
            group = groups.setdefault(row["band"], {"customers": 0, "paying": 0, "mrr": Decimal(0)})
            group["customers"] += row["n"]
            group["paying"] += row["p"]
            group["mrr"] += _money(row["m"])
    unscored = (customers.aggregate(n=Coalesce(Sum("customers"), 0))["n"] or 0) - scored
    if unscored:
        groups[None] = {"customers": unscored, "paying": 0, "mrr": Decimal(0)}
    return {band: group for band, group in groups.items() if group["customers"]}


def tally_segments(owners: list[int] | None, also=None) -> list[str]:
    """The segments with customers owned by `owners` (None: anyone's) or among the customers `also`, in order."""
    rows = PortfolioCustomerTally.objects.filter(customers__gt=0).exclude(segment="")
    if owners is not None:
        rows = rows.filter(owner_key__in=owners)
    segments = rows.order_by().values_list("segment", flat=True)
    if also is not None:
        return list(segments.union(also.exclude(segment="").order_by().values_list("segment", flat=True)).order_by("segment"))
    return list(segments.distinct().order_by("segment"))


def _money(value) -> Decimal:
    """A sum from the database as money (SQLite answers a float)."""
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def tally_recount() -> tuple[dict, dict]:
    """What the tallies must hold, counted afresh from the health rows and the customers (tests, checks):
    ({(day, model_id, owner_key, segment, band, former): (customers, paying, mrr)}, {(owner_key, segment):
    customers}), rows that count nothing left out."""
    health = (
        HealthScore.objects.filter(mrr__isnull=False)
        .values("day", "model_id", "customer__owner_id", "customer__segment", "band", "former")
        .annotate(n=Count("pk"), p=Count("pk", filter=Q(mrr__gt=0)), m=Sum("mrr"))
        .order_by()
    )
    customers = Customer.objects.values("owner_id", "segment").annotate(n=Count("pk")).order_by()
    return (
        {
            (r["day"], r["model_id"], r["customer__owner_id"] or 0, r["customer__segment"], r["band"], r["former"]): (
                r["n"], r["p"], _money(r["m"]),
            )
            for r in health
        },
        {(r["owner_id"] or 0, r["segment"]): r["n"] for r in customers},
    )  # fmt: skip


def tally_stored() -> tuple[dict, dict]:
    """The tallies as stored, in `tally_recount`'s shape (rows that count nothing left out)."""
    health = PortfolioTally.objects.exclude(customers=0, paying=0, mrr=0)
    customers = PortfolioCustomerTally.objects.exclude(customers=0)
    return (
        {
            (r.day, r.model_id, r.owner_key, r.segment, r.band, r.former): (r.customers, r.paying, _money(r.mrr))
            for r in health
        },
        {(r.owner_key, r.segment): r.customers for r in customers},
    )


def tallies_clear_when_empty(using="default", apps=global_apps, **kwargs):
    """After `migrate` or `flush` (Django's post_migrate signal): with no customer left, no tally may count one.

    PostgreSQL's flush truncates the tallies with their rows; SQLite's deletes row by row, firing
    the triggers in whatever table order it picks, which can leave counts (even negative ones)
    of rows that are gone.
    """
    try:
        tallies = [apps.get_model("metrics", name) for name in ("PortfolioTally", "PortfolioCustomerTally", "PortfolioFigure")]
        customers = apps.get_model("accounts", "Customer")
    except LookupError:  # migrated back to before the tallies
        return
    if customers.objects.using(using).exists():
        return
    for model in tallies:
        model.objects.using(using).all().delete()
