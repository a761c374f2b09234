"""Providers' webhooks (django-anymail): thin receivers of its signals that call services.

- inbound: the provider's copy of a message that came back by mail goes through
  feedback.services.inbound, exactly as one piped in by the mail server;
- tracking: bounced, rejected, complained, unsubscribed and delivered become DeliveryEvents
  through feedback.services.suppressions, matched to the EmailLog row by the metadata the
  message was sent with (`email_log`), else by its Message-ID.
"""

from typing import Any

from anymail.signals import (
    AnymailInboundEvent,
    AnymailTrackingEvent,
    EventType,
    RejectReason,
    inbound,
    tracking,
)
from django.dispatch import receiver

from feedback.models import DeliveryEvent, EmailLog, InboundMessage
from feedback.services.inbound import inbound_receive
from feedback.services.suppressions import delivery_event_record

Kind = DeliveryEvent.Kind

TRACKED = {
    EventType.BOUNCED: Kind.HARD_BOUNCE,
    EventType.REJECTED: Kind.HARD_BOUNCE,
    EventType.COMPLAINED: Kind.COMPLAINT,
    EventType.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
    EventType.DELIVERED: Kind.DELIVERED,
}
# A provider's refusal to send, by its reason: an unsubscribe or a complaint it remembers.
REJECTED = {RejectReason.UNSUBSCRIBED: Kind.UNSUBSCRIBE, RejectReason.SPAM: Kind.COMPLAINT}


@receiver(inbound, dispatch_uid="feedback.inbound")
def inbound_message(sender: object, event: AnymailInboundEvent, esp_name: str, **_: Any) -> None:
    message = event.message
    inbound_receive(
        message.as_bytes(),
        channel=InboundMessage.Channel.WEBHOOK,
        recipient=message.envelope_recipient or "",
    )


@receiver(tracking, dispatch_uid="feedback.tracking")
def tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
    kind = event_kind(event)
    if kind is None:
        return  # opens, clicks, queued, deferred...: not facts the list acts on
    delivery_event_record(
        kind=kind,
        source=DeliveryEvent.Source.PROVIDER,
        email_log=event_email_log(event),
        recipient=event.recipient or "",
        detail=" ".join(filter(None, [esp_name, event.event_type, event.description or ""])),
        occurred_at=event.timestamp,
        # Providers retry a webhook they think failed: its id makes the retry harmless.
        event_id=f"{esp_name}:{event.event_id}" if event.event_id else "",
    )


def event_kind(event: AnymailTrackingEvent) -> str | None:
    if event.event_type == EventType.REJECTED and event.reject_reason in REJECTED:
        return REJECTED[event.reject_reason]
    if event.event_type == EventType.BOUNCED and _soft(event):
        return Kind.SOFT_BOUNCE
    return TRACKED.get(event.event_type)


def _soft(event: AnymailTrackingEvent) -> bool:
    # anymail reports Postmark's SoftBounce as "bounced"; its payload says which it was.
    payload = event.esp_event
    return isinstance(payload, dict) and payload.get("Type") == "SoftBounce"


def event_email_log(event: AnymailTrackingEvent) -> EmailLog | None:
    """The message the event is about: by the `email_log` metadata we sent it with, else by
    its Message-ID."""
    logs = EmailLog.objects.select_related("invitation__customer")
    log_id = str((event.metadata or {}).get("email_log", ""))
    log = logs.filter(pk=int(log_id)).first() if log_id.isascii() and log_id.isdigit() else None
    if log is not None:
        return log
    message_id = (event.message_id or "").strip()
    if not message_id:
        return None
    bracketed = message_id if message_id.startswith("<") else f"<{message_id}>"
    return logs.filter(message_id__in=[message_id, bracketed]).first()
