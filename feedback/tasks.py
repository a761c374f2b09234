"""Thin Celery tasks: take ids, call a service."""

import logging

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from feedback import services
from feedback.services import alerts, notify, webhooks
from feedback.services import contacts as contact_services

logger = logging.getLogger(__name__)


@shared_task
def invitations_sweep() -> str:
    """Beat runs this every minute: claim due invitations, one send task per batch."""
    summary = services.invitations_sweep(send=enqueue_send_batch)
    logger.info("invitation sweep: %s", summary)
    return str(summary)


@shared_task
def invitation_send_batch(invitation_ids: list[int]) -> dict:
    result = services.invitation_send_batch(invitation_ids=invitation_ids)
    return vars(result)


def enqueue_send_batch(invitation_ids: list[int]) -> None:
    invitation_send_batch.delay_on_commit(invitation_ids)


@shared_task(bind=True)
def webhook_deliver(self: Task, delivery_id: int) -> str:
    """One attempt at a webhook delivery; a failure within a countdown's reach is retried
    here with backoff, a longer one by the sweep. Bounded by WEBHOOK_MAX_ATTEMPTS."""
    delivery = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return "skipped"
    if delivery.state == delivery.State.PENDING and delivery.queued_until is not None:
        countdown = max(0.0, (delivery.next_attempt_at - timezone.now()).total_seconds())
        raise self.retry(countdown=countdown, max_retries=settings.WEBHOOK_MAX_ATTEMPTS)
    return delivery.state


@shared_task
def webhooks_sweep() -> int:
    """Beat runs this every minute: queue due webhook deliveries that no task holds."""
    return webhooks.webhooks_sweep()


@shared_task
def product_alerts_evaluate() -> str:
    """Beat runs this every PRODUCT_ALERT_INTERVAL_SECONDS: open and close CSAT incidents."""
    summary = alerts.product_alerts_evaluate()
    logger.info("product alerts: %s", summary)
    return str(summary)


@shared_task
def product_alert_email(alert_id: int, to: str) -> bool:
    return alerts.product_alert_email_send(alert_id=alert_id, to=to)


# Contact requests: staff replies and messages to the team. A few retries a few minutes
# apart (never days ahead, see MAX_TASK_ETA_SECONDS); then the row says "not sent".


@shared_task(bind=True, max_retries=settings.NOTIFY_MAX_RETRIES)
def contact_reply_deliver(self: Task, message_id: int) -> str:
    try:
        return contact_services.contact_reply_deliver(message_id=message_id)
    except contact_services.ReplyNotSentYet as exc:
        if self.request.retries >= self.max_retries:
            contact_services.contact_reply_give_up(message_id=message_id, error=str(exc))
            return "failed"
        raise self.retry(countdown=notify.retry_delay_seconds(self.request.retries)) from exc


@shared_task(bind=True, max_retries=settings.NOTIFY_MAX_RETRIES)
def team_notification_deliver(self: Task, notification_id: int) -> bool:
    try:
        return notify.team_notification_deliver(notification_id=notification_id)
    except notify.TeamNotifyFailed as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("team notification %s not sent: %s", notification_id, exc)
            return False
        raise self.retry(countdown=notify.retry_delay_seconds(self.request.retries)) from exc


@shared_task
def team_notifications_sweep() -> int:
    """Beat, hourly: the daily digest (TEAM_NOTIFY=daily), and team messages never tried
    because their task was lost."""
    sent = contact_services.team_digest_send()
    for notification_id in notify.team_notifications_lost(now=timezone.now()):
        enqueue_team_notification(notification_id)
    return sent


def enqueue_contact_reply(message_id: int) -> None:
    """Queue a reply's sending; with the broker down, the reply says "not sent" at once,
    so staff can send it again later."""
    try:
        contact_reply_deliver.delay(message_id)
    except Exception as exc:
        logger.warning("could not queue reply %s: %r", message_id, exc)
        contact_services.contact_reply_give_up(
            message_id=message_id, error=f"The mail queue was unavailable: {exc!r}"
        )


def enqueue_team_notification(notification_id: int) -> None:
    """Queue a team message; with the broker down it stays unsent and the hourly sweep
    queues it again."""
    try:
        team_notification_deliver.delay(notification_id)
    except Exception as exc:
        logger.warning("could not queue team notification %s: %r", notification_id, exc)
