"""Thin Celery tasks: take ids, call a service."""

import logging

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from feedback import services
from feedback.services import alerts, webhooks

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
