"""Customer data rights (GDPR articles 15, 17 and 20): export everything, or erase it.

Erasure keeps what the dashboard counts and removes what identifies a person:

- the customer row stays, anonymised (no email, no name, default locale and time zone),
  so its orders and answers keep their place in the figures; with no email it is never
  invited again, and its pending invitations are suppressed now ("no email"); a keyed hash
  of the address goes on the suppression list, so an order re-sent under the same address
  later is not invited either (an opt-out outlives erasure);
- order ids become `erased-<row id>`: a shop's order number finds the person in the
  shop's own system, so it is personal data here; items, channel and dates stay;
- responses keep rating, NPS, their dates and flags, but not the comment (whose terms
  leave the topic counts) nor the permission to quote it: a published review is withdrawn
  at once; follow-ups keep
  their status and times (the contact figures) but not their notes, and their log keeps
  who did what when, its text replaced;
- invitation links stop working (token hash and nonce removed), email logs lose the
  address and any server error text;
- the admin's own history (LogEntry) loses the customer's and orders' names;
- from the shop platforms' webhooks: the link from the platform's order ids to the
  orders goes, the deliveries lose the order number, and a refused delivery whose body
  holds the address is deleted (its body is the customer's data, and nothing else);
- webhook events about the customer (their outbox rows, with comments or the address)
  are deleted, with their deliveries and attempts;
- messages that came back by mail about them (bounces, complaints, replies: they hold the
  address, often the text) are deleted; delivery events, which hold no address, stay, and
  so does the address's entry on the suppression list, no longer linked to the customer.

Both actions are recorded in PrivacyAudit: who, when, which customer id, and nothing else.
"""

from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from feedback import states, tokens
from feedback.ingest import normalise_email
from feedback.models import (
    ContactMessage,
    Customer,
    EmailLog,
    FollowUp,
    FollowUpNote,
    InboundMessage,
    Invitation,
    Order,
    OrderItem,
    PlatformOrder,
    PrivacyAudit,
    Response,
    Review,
    ShopWebhook,
    Suppression,
    WebhookEvent,
)
from feedback.services.reviews import reviews_withdraw
from feedback.services.rollups import rollups_tracked
from feedback.services.topics import topic_counts_change

State = Invitation.State
ERASED_ORDER_PREFIX = "erased-"
ERASED_TEXT = "(erased)"

# What an export holds per model; token secrets and internal leases are left out.
EXPORT_FIELDS = {
    "customer": [
        "id",
        "email",
        "name",
        "locale",
        "time_zone",
        "consent",
        "invitations_stopped_at",
        "last_invited_at",
        "created_at",
        "updated_at",
    ],
    "orders": ["id", "external_id", "placed_at", "delivered_at", "channel", "created_at"],
    "order_items": ["order_id", "sku", "name", "quantity"],
    "invitations": [
        "id",
        "order_id",
        "state",
        "suppression_reason",
        "due_at",
        "expires_at",
        "sent_at",
        "snooze_count",
        "snoozed_until",
        "responded_at",
        "declined_at",
        "created_at",
    ],
    "responses": [
        "id",
        "invitation_id",
        "rating",
        "nps",
        "comment",
        "contact_requested",
        "quote_allowed",
        "submitted_at",
        "edited_at",
    ],
    "reviews": ["response_id", "state", "reject_reason", "written_at", "published_at"],
    "follow_ups": ["id", "response_id", "status", "notes", "created_at", "resolved_at"],
    "follow_up_notes": ["follow_up_id", "text", "created_at"],
    "email_logs": ["invitation_id", "kind", "message_id", "to_email", "created_at", "outcome"],
    "platform_orders": ["platform", "platform_order_id", "order_id"],
    "refused_shop_webhooks": ["platform", "topic", "received_at", "field", "reason", "payload"],
    "contact_messages": [
        "follow_up_id",
        "direction",
        "status",
        "text",
        "attachments",
        "created_at",
        "sent_at",
    ],
}


def customer_by_email(email: str) -> Customer | None:
    """The customer with this address, however it is spelled (case, IDNA); None if none."""
    try:
        address = normalise_email(email)
    except UnicodeError:
        return None
    return Customer.objects.filter(email=address).first() if address else None


def _invitations_of(customer: Customer) -> models.QuerySet[Invitation]:
    return Invitation.objects.filter(Q(customer=customer) | Q(order__customer=customer))


@transaction.atomic
def customer_export(*, customer: Customer, performed_by: AbstractBaseUser | None) -> dict:
    """Everything stored about one customer, as plain data ready for JSON."""
    invitations = _invitations_of(customer)
    responses = Response.objects.filter(invitation__in=invitations)
    follow_ups = FollowUp.objects.filter(response__in=responses)
    querysets: dict[str, models.QuerySet[Any]] = {
        "orders": Order.objects.filter(customer=customer),
        "order_items": OrderItem.objects.filter(order__customer=customer),
        "invitations": invitations,
        "responses": responses,
        "reviews": Review.objects.filter(response__in=responses),
        "follow_ups": follow_ups,
        "follow_up_notes": FollowUpNote.objects.filter(follow_up__in=follow_ups),
        "email_logs": EmailLog.objects.filter(invitation__in=invitations),
        "platform_orders": PlatformOrder.objects.filter(order__customer=customer),
        "refused_shop_webhooks": _refused_webhooks_of(customer),
        "contact_messages": ContactMessage.objects.filter(follow_up__in=follow_ups),
    }
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "customer": Customer.objects.values(*EXPORT_FIELDS["customer"]).get(pk=customer.pk),
    }
    for name, queryset in querysets.items():
        data[name] = list(queryset.order_by("pk").values(*EXPORT_FIELDS[name]))
    PrivacyAudit.objects.create(
        action=PrivacyAudit.Action.EXPORT, customer_id=customer.pk, performed_by=performed_by
    )
    return data


@transaction.atomic
def customer_erase(*, customer: Customer, performed_by: AbstractBaseUser | None) -> None:
    """Remove or anonymise the customer's personal data; ratings stay, anonymous."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    # The figures keep the answers; the locale goes back to the default, and the pending
    # invitations become "suppressed: no email": the rollups follow both.
    with rollups_tracked(_invitations_of(customer)):
        _erase(customer, performed_by, timezone.now())


def _erase(customer: Customer, performed_by: AbstractBaseUser | None, now: datetime) -> None:
    if customer.email:
        # The address goes, its wish not to be invited stays: a re-sent order of theirs
        # finds the keyed hash and is never invited.
        stopped = customer.invitations_stopped_at is not None
        Suppression.objects.get_or_create(
            address_hash=tokens.address_hash(customer.email),
            defaults={
                "reason": Suppression.Reason.UNSUBSCRIBED if stopped else Suppression.Reason.ERASED,
                "source": Suppression.Source.ERASURE,
            },
        )
    Suppression.objects.filter(customer=customer).update(customer=None, detail="")
    invitations = _invitations_of(customer)
    InboundMessage.objects.filter(
        Q(customer=customer) | Q(email_log__invitation__in=invitations)
    ).delete()
    states.transition(
        invitations,
        to=State.SUPPRESSED,
        source=states.WAITING,
        reason=Invitation.Reason.NO_EMAIL,
        claimed_until=None,
        now=now,
    )
    invitations.update(token_nonce="", token_hash=None, last_error="")
    responses = Response.objects.filter(invitation__in=invitations)
    for answer in responses.exclude(comment="").select_related("invitation"):
        topic_counts_change(response=answer, old_comment=answer.comment, new_comment="")
    # Off the public pages, widget and feeds at once; the moderation log keeps its counts.
    reviews_withdraw(Review.objects.filter(response__in=responses))
    responses.update(comment="", quote_allowed=False)
    follow_ups = FollowUp.objects.filter(response__in=responses)
    follow_ups.update(notes="")
    FollowUpNote.objects.filter(follow_up__in=follow_ups).update(text=ERASED_TEXT)
    # The thread: staff replies and the customer's answers; the raw answers as they came go.
    replies = ContactMessage.objects.filter(follow_up__in=follow_ups)
    InboundMessage.objects.filter(pk__in=replies.values("inbound_id")).delete()
    replies.update(text=ERASED_TEXT, attachments=[], error="")
    EmailLog.objects.filter(invitation__in=invitations).update(to_email="", error="")
    # Webhook events carry their comments (and an unsubscribe its address): they go, with
    # any delivery not yet made.
    WebhookEvent.objects.filter(customer=customer).delete()
    orders = dict(Order.objects.filter(customer=customer).values_list("pk", "external_id"))
    order_ids = list(orders)
    PlatformOrder.objects.filter(order_id__in=order_ids).delete()
    _refused_webhooks_of(customer).delete()
    ShopWebhook.objects.filter(order_external_id__in=orders.values()).update(order_external_id="")
    Order.objects.filter(pk__in=order_ids).update(
        external_id=Concat(Value(ERASED_ORDER_PREFIX), Cast("pk", models.CharField()))
    )
    Customer.objects.filter(pk=customer.pk).update(
        email="",
        name="",
        locale="en",
        time_zone="UTC",
        consent=Customer.Consent.UNKNOWN,
        updated_at=now,
    )
    _scrub_admin_history(Customer, [customer.pk])
    _scrub_admin_history(Order, order_ids)
    PrivacyAudit.objects.create(
        action=PrivacyAudit.Action.ERASE, customer_id=customer.pk, performed_by=performed_by
    )


def _refused_webhooks_of(customer: Customer) -> models.QuerySet[ShopWebhook]:
    """Refused deliveries whose body holds the address (few rows: a scan is fine)."""
    if not customer.email:
        return ShopWebhook.objects.none()
    refused = ShopWebhook.objects.filter(outcome=ShopWebhook.Outcome.REFUSED)
    return refused.filter(payload__icontains=customer.email)


def _scrub_admin_history(model: type[models.Model], pks: list[int]) -> None:
    # The admin's log keeps str(obj) of every change: an email or an order id.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id__in=[str(pk) for pk in pks],
    ).update(object_repr=ERASED_TEXT)
