"""The integrations' background work: sending chat messages, the scheduled Zendesk and Stripe syncs."""

from celery import shared_task

from integrations import chat, config, stripe, zendesk
from integrations.models import ChatDelivery, Kind


@shared_task(name="integrations.chat_deliver", autoretry_for=(chat.ChatError,), retry_backoff=True, max_retries=5)
def chat_deliver(delivery_id: int) -> int | None:
    delivery = ChatDelivery.objects.select_related("channel").filter(pk=delivery_id, delivered_at__isnull=True).first()
    if delivery is None:
        return None  # delivered already, or deleted
    return chat.delivery_attempt(delivery)


@shared_task(name="integrations.zendesk_sync")
def zendesk_sync() -> dict | None:
    """Pick up the tickets a missed webhook would have brought (hourly); nothing while Zendesk is not set up."""
    if not (config.enabled(Kind.ZENDESK) and config.value(Kind.ZENDESK, "api_token")):
        return None
    return zendesk.sync()


@shared_task(name="integrations.stripe_sync")
def stripe_sync() -> dict | None:
    """Reconcile customers and subscriptions with Stripe (nightly); nothing without an API key."""
    if not (config.enabled(Kind.STRIPE) and config.value(Kind.STRIPE, "api_key")):
        return None
    return stripe.sync()
