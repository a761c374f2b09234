"""Telling the shop's team: one message per thing worth knowing, by email (TEAM_EMAIL)
and, optionally, to a chat's incoming webhook (TEAM_CHAT_WEBHOOK_URL, Slack-compatible JSON
`{"text": ...}`). Never a reminder: each key is told once per channel.

Background work is a row: `team_notify` writes a TeamNotification per channel and queues
its delivery; the task retries a few times (feedback.tasks), and each attempt's error is
kept on the row for staff to see.
"""

import json
import logging
import urllib.request
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from feedback.models import TeamNotification
from feedback.shop import from_address

log = logging.getLogger(__name__)

Channel = TeamNotification.Channel
CHAT_TIMEOUT_SECONDS = 10


class TeamNotifyFailed(Exception):
    """The mail server or the chat webhook did not take the message; try again later."""


def team_channels() -> list[str]:
    channels = []
    if settings.TEAM_EMAIL:
        channels.append(Channel.EMAIL)
    if settings.TEAM_CHAT_WEBHOOK_URL:
        channels.append(Channel.CHAT)
    return channels


@transaction.atomic
def team_notify(*, subject: str, text: str, link: str = "", key: str = "") -> int:
    """Tell the team, once per `key` (e.g. "contact:42"; none given: always a new message),
    on every configured channel. Returns how many messages it queued; 0 when this key was
    told before or no channel is configured."""
    from feedback.tasks import enqueue_team_notification

    key = key or f"once:{uuid4().hex}"
    queued = 0
    for channel in team_channels():
        notification, created = TeamNotification.objects.get_or_create(
            key=key,
            channel=channel,
            defaults={"subject": subject[:300], "text": text, "link": link[:500]},
        )
        if created:
            transaction.on_commit(lambda pk=notification.pk: enqueue_team_notification(pk))
            queued += 1
    return queued


def team_notification_deliver(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send one stored team message. True when sent (or sent before); raises
    TeamNotifyFailed, with the error kept on the row, when it could not be sent now."""
    notification = TeamNotification.objects.filter(pk=notification_id).first()
    if notification is None or notification.sent_at is not None:
        return notification is not None
    TeamNotification.objects.filter(pk=notification.pk).update(attempts=F("attempts") + 1)
    try:
        if notification.channel == Channel.EMAIL:
            _send_email(notification)
        else:
            _post_chat(notification)
    except Exception as exc:
        TeamNotification.objects.filter(pk=notification.pk).update(last_error=repr(exc)[:2000])
        raise TeamNotifyFailed(repr(exc)) from exc
    TeamNotification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(
        sent_at=now or timezone.now(), last_error=""
    )
    return True


def _send_email(notification: TeamNotification) -> None:
    body = notification.text + (f"\n\n{notification.link}\n" if notification.link else "\n")
    recipients = [address.strip() for address in settings.TEAM_EMAIL.split(",") if address]
    EmailMessage(
        subject=notification.subject,
        body=body,
        from_email=from_address(),
        to=recipients,
        headers={"Auto-Submitted": "auto-generated"},
    ).send()


def _post_chat(notification: TeamNotification) -> None:
    lines = [f"*{notification.subject}*", notification.text]
    if notification.link:
        lines.append(notification.link)
    request = urllib.request.Request(  # noqa: S310 (an https URL the operator configured)
        settings.TEAM_CHAT_WEBHOOK_URL,
        data=json.dumps({"text": "\n".join(lines)}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT_SECONDS) as reply:  # noqa: S310
        reply.read()


def retry_delay_seconds(attempt: int) -> int:
    """1, 4, 16... x NOTIFY_RETRY_BACKOFF_SECONDS (30 s, 2 min, 8 min by default), at most
    5 min: within MAX_TASK_ETA_SECONDS, never days ahead."""
    return min(settings.NOTIFY_RETRY_BACKOFF_SECONDS * 4**attempt, 300)


def team_notifications_lost(*, now: datetime) -> list[int]:
    """Team messages never tried within ten minutes of being written: their task was lost
    (the broker was down or restarted); the hourly sweep queues them again."""
    return list(
        TeamNotification.objects.filter(
            sent_at__isnull=True, attempts=0, created_at__lt=now - timedelta(minutes=10)
        ).values_list("pk", flat=True)[:1000]
    )
