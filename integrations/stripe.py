"""Billing from Stripe: webhooks (`customer.*`, `customer.subscription.*`, `invoice.*`) and `stripe_sync`.

A Stripe customer is our customer with the same external id (its `metadata.csplatform_id`
when set, else its Stripe id `cus_…`); the link is kept (`CustomerLink`), so the
subscriptions that name the Stripe id find our customer. A Stripe subscription becomes our subscription
rows, checked and converted by the import's rules (`importing.records.record_save`):

- its trial, when it has one, is a row `{sub}:trial` with `is_trial`;
- its paid time is a row `{sub}:{first day}` with the MRR of every item summed: the
  price's unit amount × quantity, normalised per month (a yearly price counts 1/12, a
  weekly one 52/12), less its discount (a percentage, or an amount spread over the
  billing period; a coupon applied once does not count as recurring), in the price's
  currency, which the import converts into the reporting currency;
- when plan, quantity, price or discount change, the running row ends on the day of
  the change and a new row starts then, so MRR history shows the expansion or contraction;
- cancellation sets the end (`ended_at`, else a scheduled `cancel_at`).

Webhooks are applied only when newer than what was applied for the object already
(`integrations.versions`), and each event id once, so repeated and out-of-order
deliveries leave the newest state. `invoice.*` events refresh their subscription
through the API (when an API key is set), since an invoice alone does not carry it all.
"""

import datetime
from decimal import Decimal

import stripe as stripe_lib
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Subscription
from importing.records import record_save
from integrations import config, inbound, versions
from integrations.models import CustomerLink, InboundEvent, Kind

UTC = datetime.UTC
MONTHS_PER = {"day": Decimal(12) / Decimal(365), "week": Decimal(12) / Decimal(52), "month": Decimal(1), "year": Decimal(12)}
ZERO_DECIMAL_CURRENCIES = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


class Refused(Exception):
    """The object cannot be stored; the message says why."""


def client() -> stripe_lib.StripeClient:
    """A Stripe client with the configured key (and API base, e.g. a local test server)."""
    key = config.value(Kind.STRIPE, "api_key")
    if not key:
        raise Refused("no Stripe API key is set (Integrations page or INTEGRATION_STRIPE_API_KEY)")
    base = config.value(Kind.STRIPE, "api_base")
    return stripe_lib.StripeClient(key, base_addresses={"api": base} if base else None, max_network_retries=2)


def construct_event(body: bytes, signature: str):
    """Verify the Stripe-Signature header with the stripe library and return the event as a dict."""
    secret = config.value(Kind.STRIPE, "webhook_secret")
    if not secret:
        raise Refused("no webhook signing secret is set")
    event = stripe_lib.Webhook.construct_event(body, signature, secret)  # raises SignatureVerificationError
    return event.to_dict()


def _day(timestamp) -> datetime.date | None:
    return datetime.datetime.fromtimestamp(timestamp, UTC).date() if timestamp else None


def _amount(minor: Decimal, currency: str) -> Decimal:
    return minor if currency.upper() in ZERO_DECIMAL_CURRENCIES else minor / 100


# --- Customers -----------------------------------------------------------------------------


def customer_external_id(stripe_customer: dict | str) -> str:
    """Our external id of a Stripe customer (given as object or as id): its link, its metadata, else its Stripe id."""
    if isinstance(stripe_customer, str):
        linked = CustomerLink.objects.filter(kind=Kind.STRIPE, source_id=stripe_customer)
        return linked.values_list("customer__external_id", flat=True).first() or stripe_customer
    return (stripe_customer.get("metadata") or {}).get("csplatform_id") or customer_external_id(stripe_customer["id"])


def customer_apply(obj: dict) -> Customer:
    cells = {"external_id": customer_external_id(obj), "name": obj.get("name") or obj.get("email") or obj["id"]}
    if obj.get("created"):
        cells["created_at"] = _day(obj["created"]).isoformat()
    saved, parsed = record_save("customers", cells)
    if saved is None:
        raise Refused("; ".join(f"{c}: {m}" for c, m in parsed.errors))
    CustomerLink.objects.update_or_create(kind=Kind.STRIPE, source_id=obj["id"], defaults={"customer": saved})
    return saved


def _customer_for(sub: dict) -> str:
    """The external id of the subscription's customer, created from its id when unknown so far."""
    owner = sub["customer"]
    external_id = customer_external_id(owner)
    if not Customer.objects.filter(external_id=external_id).exists():
        customer_apply(owner if isinstance(owner, dict) else {"id": owner})
    return external_id


# --- Subscriptions -------------------------------------------------------------------------


def _items(sub: dict) -> list[dict]:
    items = sub.get("items") or {}
    return items.get("data", []) if isinstance(items, dict) else list(items)


def _discount_of(sub: dict, as_of: datetime.date) -> dict | None:
    candidates = [sub.get("discount")] + [d for d in (sub.get("discounts") or []) if isinstance(d, dict)]
    for discount in candidates:
        if not discount:
            continue
        coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon") or {}
        if isinstance(coupon, dict) and coupon.get("duration") != "once":
            end = _day(discount.get("end"))
            if end is None or end > as_of:
                return coupon
    return None


def terms(sub: dict, as_of: datetime.date) -> dict:
    """The subscription's recurring terms: plan, quantity, currency, billing period, MRR (in its currency)."""
    items = _items(sub)
    if not items:
        raise Refused(f"subscription {sub.get('id')} has no items")
    mrr, quantity, months, currencies, plans = Decimal(0), 0, [], set(), []
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or {"interval": price.get("interval"), "interval_count": price.get("interval_count")}
        interval = recurring.get("interval") or "month"
        count = int(recurring.get("interval_count") or 1)
        per_month = MONTHS_PER.get(interval)
        if per_month is None:
            raise Refused(f"unknown billing interval {interval!r}")
        item_quantity = int(item.get("quantity") or 1)
        currency = (price.get("currency") or sub.get("currency") or "").upper()
        unit = price.get("unit_amount_decimal") or price.get("unit_amount") or price.get("amount") or 0
        if recurring.get("usage_type") == "metered":
            unit = 0  # billed on usage: no recurring amount to count
        period_months = per_month * count
        mrr += _amount(Decimal(str(unit)), currency) * item_quantity / period_months
        quantity += item_quantity
        months.append(max(1, round(period_months)))
        currencies.add(currency)
        plans.append(price.get("nickname") or price.get("lookup_key") or _product(price) or price.get("id") or "")
    if len(currencies) != 1:
        raise Refused(f"subscription {sub.get('id')} mixes currencies {sorted(currencies)}")
    (currency,) = currencies
    coupon = _discount_of(sub, as_of)
    if coupon:
        if coupon.get("percent_off"):
            mrr *= 1 - Decimal(str(coupon["percent_off"])) / 100
        elif coupon.get("amount_off") and (coupon.get("currency") or currency).upper() == currency:
            mrr -= _amount(Decimal(str(coupon["amount_off"])), currency) / max(months)
    return {
        "plan": " + ".join(p for p in plans if p)[:100] or "stripe",
        "quantity": quantity,
        "currency": currency,
        "billing_period_months": max(months),
        "mrr": max(mrr, Decimal(0)).quantize(Decimal("0.000001")),
    }


def _product(price: dict) -> str:
    product = price.get("product")
    if isinstance(product, dict):
        return product.get("name") or product.get("id") or ""
    return ""


def subscription_apply(sub: dict, as_of: datetime.date) -> list[Subscription]:
    """Write the rows of a Stripe subscription as known at `as_of` (see the module docstring)."""
    customer = _customer_for(sub)
    now_terms = terms(sub, as_of)
    started = _day(sub.get("start_date") or sub.get("created"))
    ended = _day(sub.get("ended_at")) or _day(sub.get("cancel_at"))
    trial_end = _day(sub.get("trial_end"))
    rows = []
    base = {"customer_external_id": customer, "currency": now_terms["currency"],
            "billing_period_months": str(now_terms["billing_period_months"]), "quantity": str(now_terms["quantity"])}  # fmt: skip
    if trial_end and trial_end > started:
        trial_ends = min(trial_end, ended) if ended else trial_end
        trial = Subscription.objects.filter(external_id=f"{sub['id']}:trial").first()
        if trial is not None and as_of >= trial_end:  # the trial is over: its terms stay as they were
            if trial.ended_at != trial_ends:
                _save(_row_cells(trial, ended_at=trial_ends))
        else:
            rows.append(_save({
                **base, "external_id": f"{sub['id']}:trial", "plan": now_terms["plan"], "is_trial": "true",
                "started_at": started.isoformat(), "ended_at": trial_ends.isoformat(), "mrr": str(now_terms["mrr"]),
            }))  # fmt: skip
        started = trial_end
    if ended is not None and ended <= started:
        return [r for r in rows if r]  # ended in its trial (or on its first day): no paid time
    paid = list(
        Subscription.objects.filter(external_id__startswith=f"{sub['id']}:").exclude(external_id=f"{sub['id']}:trial")
    )
    paid.sort(key=lambda s: s.started_at)
    cells = {**base, "plan": now_terms["plan"], "is_trial": "false", "mrr": str(now_terms["mrr"]),
             "ended_at": ended.isoformat() if ended else ""}  # fmt: skip
    last = paid[-1] if paid else None
    if last is None:
        rows.append(_save({**cells, "external_id": f"{sub['id']}:{started.isoformat()}", "started_at": started.isoformat()}))
    elif _same_terms(last, now_terms) or as_of <= last.started_at:
        rows.append(_save({**cells, "external_id": last.external_id, "started_at": last.started_at.isoformat()}))
    else:  # the terms changed: the running row ends on the day of the change, a new one starts then
        change = as_of if ended is None or as_of < ended else ended
        _save(_row_cells(last, ended_at=change))
        if ended is None or change < ended:
            rows.append(_save({**cells, "external_id": f"{sub['id']}:{change.isoformat()}", "started_at": change.isoformat()}))
    return [r for r in rows if r]


def _same_terms(row: Subscription, now: dict) -> bool:
    return (row.plan, row.quantity, row.currency, row.original_mrr, row.billing_period_months) == (
        now["plan"], now["quantity"], now["currency"], now["mrr"], now["billing_period_months"]
    )  # fmt: skip


def _row_cells(row: Subscription, **changes) -> dict:
    cells = {
        "customer_external_id": row.customer.external_id, "external_id": row.external_id, "plan": row.plan,
        "started_at": row.started_at.isoformat(), "ended_at": row.ended_at.isoformat() if row.ended_at else "",
        "mrr": str(row.original_mrr), "currency": row.currency, "billing_period_months": str(row.billing_period_months),
        "quantity": "" if row.quantity is None else str(row.quantity), "is_trial": "true" if row.is_trial else "false",
    }  # fmt: skip
    cells.update({k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in changes.items()})
    return cells


def _save(cells: dict) -> Subscription | None:
    saved, parsed = record_save("subscriptions", cells)
    if saved is None:
        raise Refused("; ".join(f"{c}: {m}" for c, m in parsed.errors))
    return saved


# --- Events --------------------------------------------------------------------------------


def event_handle(event: dict) -> str:
    """Apply one verified event; return what was done (for the log). Raises Refused."""
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    created = datetime.datetime.fromtimestamp(event.get("created") or timezone.now().timestamp(), UTC)
    with transaction.atomic():
        if kind.startswith("customer.subscription."):
            if not versions.claim(Kind.STRIPE, obj["id"], created):
                return "older than the state applied already"
            subscription_apply(obj, created.date())
            return "subscription applied"
        if kind.startswith("customer.") and obj.get("object") == "customer":
            if kind == "customer.deleted":
                return "kept (a deleted Stripe customer stays in the history)"
            if not versions.claim(Kind.STRIPE, obj["id"], created):
                return "older than the state applied already"
            customer_apply(obj)
            return "customer applied"
        if kind.startswith("customer."):
            return "ignored (not a customer object)"
        if kind.startswith("invoice."):
            sub_id = _invoice_subscription(obj)
            if not sub_id:
                return "ignored (an invoice without a subscription)"
            if not config.value(Kind.STRIPE, "api_key"):
                return "logged (set an API key to refresh its subscription)"
            sub = client().v1.subscriptions.retrieve(sub_id).to_dict()
            if not versions.claim(Kind.STRIPE, sub_id, timezone.now()):
                return "older than the state applied already"
            subscription_apply(sub, timezone.localdate())
            return "subscription refreshed"
    return "ignored (an event type this connection does not use)"


def _invoice_subscription(invoice: dict) -> str:
    sub = invoice.get("subscription")
    if not sub:
        details = ((invoice.get("parent") or {}).get("subscription_details") or {})
        sub = details.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return sub or ""


def already_handled(event_id: str) -> bool:
    return InboundEvent.objects.filter(
        kind=Kind.STRIPE, external_id=event_id, status__in=[InboundEvent.Status.ACCEPTED, InboundEvent.Status.REPLAYED]
    ).exists()


def receive(event: dict, request=None) -> dict:
    """The webhook once its signature passed: de-duplicate by event id, apply, log; the JSON answer (always 200)."""
    if already_handled(event["id"]):
        return {"success": True, "result": "a repeated delivery: handled already"}
    try:
        result = event_handle(event)
    except (Refused, stripe_lib.StripeError, KeyError, TypeError, ValueError) as exc:
        inbound.log_refused(Kind.STRIPE, f"{type(exc).__name__}: {exc}", payload=event, event_type=event.get("type", ""),
                            external_id=event["id"], request=request)  # fmt: skip
        # 200: a retry would fail the same way; the event is kept for replay on the Integrations page.
        return {"success": False, "message": str(exc)}
    inbound.log_accepted(Kind.STRIPE, event.get("type", ""), event["id"], request=request)
    return {"success": True, "result": result}


def sync(*, since: datetime.datetime | None = None, out=None) -> dict:
    """Backfill customers and every subscription (any status) through the list calls."""
    api = client()
    params = {"limit": 100}
    if since:
        params["created"] = {"gte": int(since.timestamp())}
    counts = {"customers": 0, "subscriptions": 0, "refused": 0}
    for customer in api.v1.customers.list(params=params).auto_paging_iter():
        obj = customer.to_dict()
        with transaction.atomic():
            versions.claim(Kind.STRIPE, obj["id"], timezone.now())
            customer_apply(obj)
        counts["customers"] += 1
    today = timezone.localdate()
    for sub in api.v1.subscriptions.list(params={**params, "status": "all"}).auto_paging_iter():
        obj = sub.to_dict()
        try:
            with transaction.atomic():
                versions.claim(Kind.STRIPE, obj["id"], timezone.now())
                subscription_apply(obj, today)
            counts["subscriptions"] += 1
        except Refused as exc:
            counts["refused"] += 1
            inbound.log_refused(Kind.STRIPE, str(exc), payload=obj, event_type="sync", external_id=obj["id"])
    return counts
