"""Shop platforms' webhooks in (feedback.shop_webhooks maps them): each accepted delivery
once, through the same services as the REST API; each refused one kept for staff.

A delivery's id is stored in the same transaction as what it changes, under a unique
constraint: a replay, even one arriving while the first is being written, changes
nothing. A refused delivery stores only its row: nothing it carried is written.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback import ingest
from feedback.models import Order, PlatformOrder, ShopWebhook
from feedback.services.invitations import order_mark_delivered
from feedback.services.orders import orders_upsert
from feedback.shop_webhooks import Change, DeliveryIn, Nothing, OrderIn, PayloadRefused

Outcome = ShopWebhook.Outcome


def shop_webhook_accept(
    *, platform: str, delivery_id: str, topic: str, change: Change
) -> ShopWebhook | None:
    """Apply the change and record the delivery; None when it was received before (a
    replay: nothing changes). Raises PayloadRefused or OrdersRefused (from orders_upsert)
    when the change contradicts what is stored; then nothing is written."""
    try:
        return _accept(platform=platform, delivery_id=delivery_id, topic=topic, change=change)
    except IntegrityError:
        received = ShopWebhook.objects.filter(platform=platform, delivery_id=delivery_id)
        if received.exclude(outcome=Outcome.REFUSED).exists():
            return None
        raise


@transaction.atomic
def _accept(*, platform: str, delivery_id: str, topic: str, change: Change) -> ShopWebhook:
    # First, so that a concurrent replay waits on the unique index, then fails.
    webhook = ShopWebhook.objects.create(
        platform=platform,
        delivery_id=delivery_id,
        topic=topic,
        received_at=timezone.now(),
        outcome=Outcome.IGNORED if isinstance(change, Nothing) else Outcome.ACCEPTED,
        reason=change.reason if isinstance(change, Nothing) else "",
    )
    if isinstance(change, OrderIn):
        webhook.order_external_id = _order_in(platform, change)
    elif isinstance(change, DeliveryIn):
        webhook.order_external_id = _delivery_in(platform, change)
    webhook.save(update_fields=["order_external_id"])
    return webhook


def _order_in(platform: str, change: OrderIn) -> str:
    orders_upsert([change.record])
    order = Order.objects.get(external_id=change.record.order_id)
    # ignore_conflicts: a concurrent delivery for the same order may link it first.
    PlatformOrder.objects.bulk_create(
        [PlatformOrder(platform=platform, platform_order_id=change.platform_order_id, order=order)],
        ignore_conflicts=True,
    )
    PlatformOrder.objects.filter(
        platform=platform, platform_order_id=change.platform_order_id
    ).exclude(order=order).update(order=order)
    return order.external_id


def _delivery_in(platform: str, change: DeliveryIn) -> str:
    link = (
        PlatformOrder.objects.select_related("order")
        .filter(platform=platform, platform_order_id=change.platform_order_id)
        .first()
    )
    if link is None:
        raise PayloadRefused(
            "order_id",
            f"no order {change.platform_order_id} has been received from this shop; "
            "subscribe to the order topics too (a retry after the order arrives succeeds)",
        )
    try:
        ingest.check_delivery(link.order.placed_at, change.delivered_at)
    except ingest.FieldError as error:
        raise PayloadRefused(change.field, str(error)) from None
    order_mark_delivered(order=link.order, delivered_at=change.delivered_at)
    return link.order.external_id


def shop_webhook_refuse(
    *, platform: str, delivery_id: str, topic: str, field: str, reason: str, body: bytes
) -> ShopWebhook:
    """Keep a delivery we cannot map, with its body, for staff to see."""
    # PostgreSQL text holds no NUL character.
    payload = body.decode("utf-8", "replace").replace("\x00", "\ufffd")
    return ShopWebhook.objects.create(
        platform=platform,
        delivery_id=delivery_id[:100],
        topic=topic[:100],
        received_at=timezone.now(),
        outcome=Outcome.REFUSED,
        field=field[:200],
        reason=reason,
        payload=payload,
    )
