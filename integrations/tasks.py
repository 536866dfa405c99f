"""The integrations' background work: sending chat messages."""

from celery import shared_task

from integrations import chat
from integrations.models import ChatDelivery


@shared_task(name="integrations.chat_deliver", autoretry_for=(chat.ChatError,), retry_backoff=True, max_retries=5)
def chat_deliver(delivery_id: int) -> int | None:
    delivery = ChatDelivery.objects.select_related("channel").filter(pk=delivery_id, delivered_at__isnull=True).first()
    if delivery is None:
        return None  # delivered already, or deleted
    return chat.delivery_attempt(delivery)
