"""Thin Celery tasks: take ids, call a service."""

import logging

from celery import shared_task

from feedback import services
from feedback.services import alerts

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


@shared_task
def product_alerts_evaluate() -> str:
    """Beat runs this every PRODUCT_ALERT_INTERVAL_SECONDS: open and close CSAT incidents."""
    summary = alerts.product_alerts_evaluate()
    logger.info("product alerts: %s", summary)
    return str(summary)


@shared_task
def product_alert_email(alert_id: int, to: str) -> bool:
    return alerts.product_alert_email_send(alert_id=alert_id, to=to)
