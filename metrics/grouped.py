"""KPIs of many scopes at once: one set-based pass per KPI family and period.

Each family's inputs are read for every customer in a few GROUP BY customer queries over
the rollups (the same selectors `compute_kpis` uses, with `by="customer_id"`), each scope's
inputs are put together from its customers' (counts add up; per-customer MRR maps are
narrowed), and the same formulas of `metrics.kpis` turn them into figures. So every scope
costs a dictionary walk over its own customers instead of its own queries, and
`kpis_of_scopes(labels, period)` equals `compute_kpis(Scope.from_label(label), period)` for
each label (tests/test_grouped_kpis.py holds them equal).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from accounts.models import Customer
from metrics import catalogue, selectors
from metrics.kpis import Kpi
from metrics.periods import Period
from metrics.selectors import Scope

CUSTOMER = "customer_id"
COMPANY = Scope()


@dataclass(frozen=True)
class Family:
    """One KPI family: how to read every customer's inputs, narrow them to a scope, and compute its KPIs."""

    name: str
    keys: tuple[str, ...]
    read: Callable[[Period], object]  # period -> all customers' inputs
    narrow: Callable[[object, list[int] | None], object]  # (all inputs, customer ids or None for all) -> a scope's
    compute: Callable[[object, Period, bool], dict[str, Kpi]]  # (a scope's inputs, period, is company) -> KPIs


def _add(total: dict, counts: dict) -> None:
    """Add `counts` (numbers and nested {name: number} maps) into `total`."""
    for name, value in counts.items():
        if isinstance(value, dict):
            _add(total.setdefault(name, {}), value)
        else:
            total[name] = total.get(name, 0) + (value or 0)


def _summed(by_customer: dict, ids: list[int] | None, empty: Callable[[], dict]) -> dict:
    """The sum of the customers' counts (`ids` None: every customer); `empty()` when none has any."""
    if ids is not None and len(ids) == 1:
        return by_customer.get(ids[0]) or empty()  # a customer scope: its own counts, nothing to add
    total = empty()
    for counts in by_customer.values() if ids is None else (by_customer[c] for c in ids if c in by_customer):
        _add(total, counts)
    return total


def _revenue(period: Period):
    return selectors.revenue_inputs(COMPANY, period), selectors.company_costs(COMPANY, period)


def _conversion(period: Period):
    return selectors.conversion_inputs(COMPANY, period), selectors.lead_counts(period)


def _no_voice() -> dict:
    return {}


def _no_support() -> dict:
    return {"total": 0, "first": 0}


def _no_usage() -> dict:
    return {"users": 0, "user_days": 0, "events": 0, "sessions": 0, "session_us": 0, "active_customers": 0, "adopters": {}}


FAMILIES = {
    family.name: family
    for family in (
        Family(
            "revenue", selectors.REVENUE_KEYS, _revenue,
            lambda read, ids: (read[0] if ids is None else read[0].of(ids), read[1] if ids is None else None),
            lambda inputs, period, company: selectors.revenue_from(inputs[0], inputs[1] if company else None),
        ),
        Family(
            "conversion", selectors.CONVERSION_KEYS, _conversion,
            lambda read, ids: (read[0] if ids is None else read[0].of(ids), read[1]),
            lambda inputs, period, company: selectors.conversion_from(inputs[0], inputs[1] if company else None),
        ),
        Family(
            "voice", selectors.VOICE_KEYS,
            lambda period: selectors.voice_counts(COMPANY, period, by=CUSTOMER),
            lambda read, ids: _summed(read, ids, _no_voice),
            lambda counts, period, company: selectors.voice_from(counts),
        ),
        Family(
            "support", selectors.SUPPORT_KEYS,
            lambda period: selectors.support_counts(COMPANY, period, by=CUSTOMER),
            lambda read, ids: _summed(read, ids, _no_support),
            lambda counts, period, company: selectors.support_from(counts),
        ),
        Family(
            "usage", selectors.USAGE_KEYS,
            lambda period: selectors.usage_counts_for_periods(COMPANY, [period], by=CUSTOMER)[0],
            lambda read, ids: _summed(read, ids, _no_usage),
            lambda counts, period, company: selectors.usage_from(counts, period),
        ),
    )
}  # fmt: skip
assert tuple(FAMILIES) == tuple(g.key for g in catalogue.GROUPS), "one family per catalogue group, in its order"


def scope_members(labels: Iterable[str]) -> dict[str, list[int] | None]:
    """Return {label: its customers' ids} (None for the company: every customer), with Scope's filters, in two queries."""
    labels = list(labels)
    scopes = {label: Scope.from_label(label) for label in labels}
    members: dict[str, list[int] | None] = {}
    segments = {s.segment for s in scopes.values() if s.segment is not None}
    csms = {s.csm for s in scopes.values() if s.csm is not None}
    of_segment, of_csm = defaultdict(list), defaultdict(set)
    if segments or csms:  # one read of the customers for both; Scope.customers(): a CSM's are owned or assigned
        customers = Customer.objects.order_by("pk")
        if not csms:
            customers = customers.filter(segment__in=segments)
        elif not segments:
            customers = customers.filter(owner__username__in=csms)
        for pk, segment, owner in customers.values_list("pk", "segment", "owner__username"):
            if segment in segments:
                of_segment[segment].append(pk)
            if owner in csms:
                of_csm[owner].add(pk)
    if csms:
        assigned = Customer.assigned_users.through.objects.filter(user__username__in=csms).values_list(
            "customer_id", "user__username"
        )
        for pk, username in assigned:
            of_csm[username].add(pk)
    for label, scope in scopes.items():
        if scope.customer_id is not None:
            members[label] = [scope.customer_id]
        elif scope.segment is not None:
            members[label] = of_segment[scope.segment]
        elif scope.csm is not None:
            members[label] = sorted(of_csm[scope.csm])
        else:
            members[label] = None
    return members


def family_kpis(family: str, labels: Iterable[str], period: Period) -> Iterator[tuple[str, dict[str, Kpi]]]:
    """Yield (label, {key: Kpi}) of one family for each scope label, from one set-based read of its inputs."""
    spec = FAMILIES[family]
    members = scope_members(labels)
    read = spec.read(period)
    for label, ids in members.items():
        yield label, spec.compute(spec.narrow(read, ids), period, ids is None)


def kpis_of_scopes(labels: Iterable[str], period: Period, keys=None) -> dict[str, dict[str, Kpi]]:
    """Return {label: {key: Kpi}} of the KPIs `keys` (default: all) for every scope label, one grouped pass per family.

    Equal to `{label: compute_kpis(Scope.from_label(label), period, keys)}`, for any number of
    scopes at the cost of a few queries per family (e.g. every CSM for the team report).
    Scopes are unrestricted (no viewer): check who may see them before calling.
    """
    wanted = list(keys or selectors.KPI_KEYS)
    unknown = [k for k in wanted if k not in selectors.KPI_KEYS]
    if unknown:
        raise ValueError(f"unknown KPI key(s): {', '.join(unknown)}")
    labels = list(labels)
    results: dict[str, dict[str, Kpi]] = {label: {} for label in labels}
    for name, family in FAMILIES.items():
        if any(k in wanted for k in family.keys):
            for label, figures in family_kpis(name, labels, period):
                results[label].update(figures)
    return {label: {k: figures[k] for k in wanted} for label, figures in results.items()}

