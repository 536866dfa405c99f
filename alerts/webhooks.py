"""Signed webhooks after the Standard Webhooks spec, and the log of every delivery attempt.

The signature is HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the
base64-decoded part of the "whsec_…" secret, sent as "v1,<base64>". The message id stays
the same across retries, so a receiver can drop duplicates.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid

from django.utils import timezone

from alerts.models import Webhook, WebhookDelivery

TIMEOUT_SECONDS = 10


class WebhookError(Exception):
    """A delivery attempt failed (network error or a non-2xx answer); Celery retries it."""


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """Return the webhook-signature header value for this message."""
    digest = hmac.new(_key(secret), f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict, body: str) -> bool:
    """Return whether one of the header's signatures matches (what a receiver does)."""
    expected = sign(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in headers["webhook-signature"].split())


def delivery_create(*, webhook: Webhook, event_type: str, data: dict) -> WebhookDelivery:
    """Log a message for `webhook`; the caller enqueues `alerts.webhook_deliver` on commit."""
    return WebhookDelivery.objects.create(
        webhook=webhook,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload={"type": event_type, "timestamp": timezone.now().isoformat(), "data": data},
    )


def delivery_attempt(delivery: WebhookDelivery, opener=urllib.request.urlopen) -> int:
    """POST the message once and log the attempt; return the status code or raise WebhookError."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    timestamp = int(timezone.now().timestamp())
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body.encode(),
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(delivery.webhook.secret, delivery.message_id, timestamp, body),
        },
    )
    status, error = None, ""
    try:
        with opener(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = str(exc)[:500]
    delivery.attempt_logged(status, error)
    if error:
        raise WebhookError(error)
    return status
