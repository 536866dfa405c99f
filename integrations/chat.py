"""Chat notifications: alerts, detractor answers and weekly digests posted to Slack or Microsoft Teams.

Who gets what (`routes`):
- a team channel (a `ChatChannel` without user) gets every alert and detractor, and a
  one-line summary of each CSM's digest, as its switches say;
- a user's channel gets the alerts and detractors of the customers that user owns, and
  their own digest;
- with no team channel set up, the team webhook of the Slack or Teams connection (set on
  the Integrations page or by INTEGRATION_SLACK_WEBHOOK_URL / INTEGRATION_TEAMS_WEBHOOK_URL)
  is the team channel.

Each message is logged as a `ChatDelivery` and sent by a Celery task after the commit
(`integrations.chat_deliver`, retried with backoff): Slack through `slack-sdk` (its
`WebhookClient` for an incoming webhook, its `WebClient.chat_postMessage` for a bot
token), Teams as an Adaptive Card to its incoming webhook.
"""

from dataclasses import dataclass

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from integrations import config
from integrations.models import ChatChannel, ChatDelivery, Kind

TIMEOUT_SECONDS = 10
Service = ChatChannel.Service


class ChatError(Exception):
    """A delivery attempt failed; the task retries it."""


@dataclass
class Message:
    event_type: str
    title: str
    text: str
    link: str

    def as_payload(self) -> dict:
        return {"event_type": self.event_type, "title": self.title, "text": self.text, "link": self.link}


def _absolute(path: str) -> str:
    return settings.CSPLATFORM_BASE_URL.rstrip("/") + path


def _account_link(customer_id: int) -> str:
    return _absolute(reverse("web:account", args=[customer_id]))


# --- What is said ---------------------------------------------------------------------------


def alert_message(alert) -> Message:
    with translation.override(settings.LANGUAGE_CODE):
        details = ", ".join(f"{k}: {v}" for k, v in (alert.details or {}).items())
        return Message(
            "alert.fired",
            _("Alert: %(rule)s") % {"rule": alert.rule.name},
            _("%(customer)s — %(details)s") % {"customer": alert.customer.name, "details": details or "—"},
            _account_link(alert.customer_id),
        )


def detractor_message(response) -> Message:
    with translation.override(settings.LANGUAGE_CODE):
        who = str(response.contact) if response.contact else _("a contact")
        text = _("%(score)s from %(who)s at %(customer)s") % {
            "score": f"{response.survey_type.upper()} {response.score}", "who": who, "customer": response.customer.name,
        }  # fmt: skip
        if response.comment:
            text += f": “{response.comment[:500]}”"
        return Message("survey.detractor", _("Unhappy answer"), text, _account_link(response.customer_id))


def digest_message(digest, *, summary=False) -> Message:
    with translation.override(settings.LANGUAGE_CODE):
        user = digest.user.get_full_name() or digest.user.get_username()
        counts = _("%(at_risk)s at risk, %(overdue)s overdue tasks, %(renewals)s renewals within 30 days") % {
            "at_risk": len(digest.at_risk), "overdue": len(digest.overdue_tasks), "renewals": len(digest.renewals),
        }  # fmt: skip
        if summary:
            return Message("digest.weekly", _("Week of %(user)s") % {"user": user}, counts, _absolute(reverse("web:portfolio")))
        lines = [counts]
        lines += [f"• {customer.name}: {score}" for customer, score in digest.at_risk[:10]]
        lines += [f"• {task.customer.name}: {task.title}" for task in digest.overdue_tasks[:10]]
        return Message("digest.weekly", _("Your week"), "\n".join(lines), _absolute(reverse("web:portfolio")))


# --- Who hears it ---------------------------------------------------------------------------


def routes(flag: str, owner_id: int | None) -> list[tuple[ChatChannel | None, str]]:
    """The (channel, service) pairs a message of kind `flag` goes to; channel None is a connection's team webhook."""
    active = ChatChannel.objects.filter(active=True, **{flag: True})
    team = [(c, c.service) for c in active.filter(user__isnull=True)]
    personal = [(c, c.service) for c in active.filter(user_id=owner_id)] if owner_id else []
    if not team:
        if config.enabled(Kind.SLACK) and config.value(Kind.SLACK, "webhook_url"):
            team.append((None, Service.SLACK_WEBHOOK))
        if config.enabled(Kind.TEAMS) and config.value(Kind.TEAMS, "webhook_url"):
            team.append((None, Service.TEAMS))
    return team + personal


def queue(message: Message, targets) -> list[ChatDelivery]:
    """Log a delivery per target and send each after the commit."""
    from integrations import tasks  # the tasks module imports this one

    deliveries = [
        ChatDelivery.objects.create(channel=channel, service=service, event_type=message.event_type, payload=message.as_payload())
        for channel, service in targets
    ]
    for delivery in deliveries:
        tasks.chat_deliver.delay_on_commit(delivery.pk)
    return deliveries


def alert_notify(alert) -> list[ChatDelivery]:
    return queue(alert_message(alert), routes("alerts", alert.customer.owner_id))


def detractor_notify(response) -> list[ChatDelivery]:
    return queue(detractor_message(response), routes("detractors", response.customer.owner_id))


def digest_notify(digest) -> list[ChatDelivery]:
    personal = ChatChannel.objects.filter(active=True, digests=True, user=digest.user)
    deliveries = queue(digest_message(digest), [(c, c.service) for c in personal])
    team = [(c, s) for c, s in routes("digests", None)]
    return deliveries + queue(digest_message(digest, summary=True), team)


# --- How it is sent -------------------------------------------------------------------------


def _slack_blocks(payload: dict) -> list[dict]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{payload['title']}*\n{payload['text']}"}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "csplatform"},
                                          "url": payload["link"]}]},
    ]  # fmt: skip


def _teams_card(payload: dict) -> dict:
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
                "body": [{"type": "TextBlock", "text": payload["title"], "weight": "Bolder", "wrap": True},
                         {"type": "TextBlock", "text": payload["text"], "wrap": True}],
                "actions": [{"type": "Action.OpenUrl", "title": "csplatform", "url": payload["link"]}],
            },
        }],
    }  # fmt: skip


def _target(delivery: ChatDelivery) -> str:
    if delivery.channel is not None:
        return delivery.channel.target
    kind = Kind.TEAMS if delivery.service == Service.TEAMS else Kind.SLACK
    return config.value(kind, "webhook_url")


def _send(delivery: ChatDelivery) -> int:
    """One attempt; return the HTTP status, or raise ChatError."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.webhook import WebhookClient

    payload, target = delivery.payload, _target(delivery)
    if not target:
        raise ChatError("no destination: the channel or the connection's webhook URL is not set")
    fallback = f"{payload['title']}: {payload['text']}"
    if delivery.service == Service.SLACK_WEBHOOK:
        response = WebhookClient(target, timeout=TIMEOUT_SECONDS).send(text=fallback, blocks=_slack_blocks(payload))
        if response.status_code >= 300:
            raise ChatError(f"HTTP {response.status_code}: {response.body[:200]}")
        return response.status_code
    if delivery.service == Service.SLACK_BOT:
        token = config.value(Kind.SLACK, "bot_token")
        if not token:
            raise ChatError("no Slack bot token is set")
        base = config.value(Kind.SLACK, "api_url") or WebClient.BASE_URL
        try:
            answer = WebClient(token=token, base_url=base, timeout=TIMEOUT_SECONDS).chat_postMessage(
                channel=target, text=fallback, blocks=_slack_blocks(payload)
            )
        except SlackApiError as exc:
            raise ChatError(f"Slack refused: {exc.response.get('error')}") from None
        return answer.status_code
    response = requests.post(target, json=_teams_card(payload), timeout=TIMEOUT_SECONDS)
    if response.status_code >= 300:
        raise ChatError(f"HTTP {response.status_code}: {response.text[:200]}")
    return response.status_code


def delivery_attempt(delivery: ChatDelivery) -> int:
    """Send once and log the attempt; return the status or raise ChatError (the task retries)."""
    status, error = None, ""
    try:
        status = _send(delivery)
    except ChatError as exc:
        error = str(exc)
    except (OSError, requests.RequestException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivery.attempt_logged(status, error)
    if error:
        raise ChatError(error)
    return status
