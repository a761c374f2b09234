"""The suppression list and the delivery facts that feed it.

Every fact about a message after it left (delivered, bounced, complained, unsubscribed),
whatever brought the news (the SMTP reply, a bounce message, an abuse report, a provider's
webhook), goes through `delivery_event_record`: one DeliveryEvent row, then what it means
for the address. Scheduling and sending consult the list (feedback.services.invitations).
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from feedback import tokens
from feedback.ingest import normalise_email
from feedback.models import Customer, DeliveryEvent, EmailLog, Suppression, SuppressionRemoval
from feedback.services.controls import customer_stop_invitations

Kind = DeliveryEvent.Kind
Reason = Suppression.Reason

# Where the news came from -> the suppression list's source.
SOURCES = {
    DeliveryEvent.Source.SMTP: Suppression.Source.SMTP,
    DeliveryEvent.Source.DSN: Suppression.Source.DSN,
    DeliveryEvent.Source.PROVIDER: Suppression.Source.PROVIDER,
    DeliveryEvent.Source.COMPLAINT: Suppression.Source.COMPLAINT,
    DeliveryEvent.Source.MAILTO: Suppression.Source.UNSUBSCRIBE,
}


def suppression_add(
    *,
    email: str,
    reason: str,
    source: str,
    customer: Customer | None = None,
    detail: str = "",
) -> Suppression:
    """Put an address on the list. An address already there keeps its first entry."""
    suppression, _created = Suppression.objects.get_or_create(
        address_hash=tokens.address_hash(email),
        defaults={"reason": reason, "source": source, "customer": customer, "detail": detail},
    )
    return suppression


@transaction.atomic
def suppression_remove(
    *, suppression: Suppression, removed_by: AbstractBaseUser | None, why: str
) -> SuppressionRemoval:
    """Take an entry off the list (Ops, with a reason); the removal is kept: who, when, why."""
    if not why.strip():
        raise ValueError("a removal needs a reason")
    removal = SuppressionRemoval.objects.create(
        address_hash=suppression.address_hash,
        reason=suppression.reason,
        source=suppression.source,
        suppressed_at=suppression.created_at,
        customer_id=suppression.customer_id,
        removed_by=removed_by,
        why=why.strip(),
    )
    suppression.delete()
    return removal


def _customer(email_log: EmailLog | None, address: str) -> Customer | None:
    if email_log is not None:
        return email_log.invitation.customer
    return Customer.objects.filter(email=address).first() if address else None


def _address(email_log: EmailLog | None, recipient: str) -> str:
    if email_log is not None and email_log.to_email:
        return email_log.to_email
    try:
        return normalise_email(recipient) if recipient else ""
    except (UnicodeError, ValueError):
        return ""


@transaction.atomic
def delivery_event_record(
    *,
    kind: str,
    source: str,
    email_log: EmailLog | None = None,
    recipient: str = "",
    detail: str = "",
    occurred_at: datetime | None = None,
    event_id: str = "",
) -> DeliveryEvent:
    """Record one fact about a sent message, then act on it:

    - hard bounce: the address is suppressed at once;
    - soft bounce: suppressed once BOUNCE_SOFT_LIMIT of them came within
      BOUNCE_SOFT_WINDOW_DAYS;
    - complaint: the customer's global opt-out ("stop all"), and the address suppressed;
    - unsubscribe: the customer stops all invitations, as with the one-click POST;
    - delivered: recorded only.

    `email_log` is the message when it is known; else `recipient` names the address.
    `event_id` is the news' own id: the same news again (a webhook retried, a bounce
    piped twice) changes nothing more.
    """
    event_id = event_id[:255]
    if event_id and (
        known := DeliveryEvent.objects.filter(source=source, event_id=event_id).first()
    ):
        return known
    address = _address(email_log, recipient)
    occurred_at = occurred_at or timezone.now()
    if address:
        # The reply often quotes the address ("<ana@…>: Recipient address rejected").
        detail = re.sub(re.escape(address), "(recipient)", detail, flags=re.IGNORECASE)
    event = DeliveryEvent.objects.create(
        email_log=email_log,
        kind=kind,
        source=source,
        recipient_domain=address.rpartition("@")[2],
        occurred_at=occurred_at,
        detail=detail[:2000],
        event_id=event_id,
    )
    if not address:
        return event
    customer = _customer(email_log, address)
    reason = _reason(kind, address, occurred_at)
    if reason:
        suppression_add(
            email=address, reason=reason, source=SOURCES[source], customer=customer, detail=detail
        )
    if kind in (Kind.COMPLAINT, Kind.UNSUBSCRIBE) and customer is not None:
        customer_stop_invitations(customer=customer)
    return event


def _reason(kind: str, address: str, now: datetime) -> str:
    """The suppression reason this event gives the address, or "" for none (yet)."""
    if kind == Kind.HARD_BOUNCE:
        return Reason.HARD_BOUNCE
    if kind == Kind.COMPLAINT:
        return Reason.COMPLAINT
    if kind != Kind.SOFT_BOUNCE:
        return ""
    since = now - timedelta(days=settings.BOUNCE_SOFT_WINDOW_DAYS)
    soft = DeliveryEvent.objects.filter(
        kind=Kind.SOFT_BOUNCE, occurred_at__gt=since, email_log__to_email=address
    ).count()
    return Reason.SOFT_BOUNCES if soft >= settings.BOUNCE_SOFT_LIMIT else ""
