"""Writes: every change that spans models or has side effects goes through here."""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from feedback import emails, tokens
from feedback.models import (
    Customer,
    EmailLog,
    FollowUp,
    Invitation,
    InvitationPolicy,
    Order,
    Response,
)
from feedback.policy import Decision, Facts, PolicyRules, decide

logger = logging.getLogger(__name__)

State = Invitation.State

# SMTP errors that prove the server did not accept the message: safe to report as failed.
REFUSED_ERRORS = (
    ConnectionRefusedError,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
)


def customer_normalise_email(email: str) -> str:
    return email.strip().lower()


def _facts_for(invitation_or_order: Order, *, exclude_invitation: int | None = None) -> Facts:
    order = invitation_or_order
    customer = order.customer
    others = Invitation.objects.filter(customer=customer, sent_at__isnull=False)
    if exclude_invitation is not None:
        others = others.exclude(pk=exclude_invitation)
    return Facts(
        order_external_id=order.external_id,
        delivered_at=order.delivered_at,
        has_email=bool(customer.email),
        opted_out=customer.invitations_stopped_at is not None,
        consent=customer.consent,
        time_zone=customer.time_zone,
        last_invited_at=others.aggregate(last=Max("sent_at"))["last"],
    )


@transaction.atomic
def order_mark_delivered(*, order: Order, delivered_at: datetime) -> Invitation:
    """Record delivery once and schedule the order's invitation; a repeat changes nothing."""
    updated = Order.objects.filter(pk=order.pk, delivered_at__isnull=True).update(
        delivered_at=delivered_at
    )
    order.refresh_from_db()
    if not updated and hasattr(order, "invitation"):
        return order.invitation
    return invitation_schedule(order=order)


def invitation_schedule(*, order: Order, now: datetime | None = None) -> Invitation:
    """Create the order's one invitation, scheduled or suppressed with its reason."""
    if order.delivered_at is None:
        raise ValueError(f"order {order.external_id} is not delivered")
    existing = Invitation.objects.filter(order=order).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    rules = PolicyRules.from_policy(InvitationPolicy.live())
    decision = decide(rules, _facts_for(order), now)
    try:
        # A savepoint: a concurrent delivery event may have created it a moment ago.
        with transaction.atomic():
            return Invitation.objects.create(
                order=order,
                customer=order.customer,
                due_at=decision.due_at,
                expires_at=decision.due_at + timedelta(days=rules.invitation_valid_days),
                token_nonce=(nonce := tokens.new_nonce()),
                token_hash=tokens.token_hash(tokens.token_for(nonce)),
                **_state_for(decision),
            )
    except IntegrityError:
        return Invitation.objects.get(order=order)


def _state_for(decision: Decision) -> dict:
    if decision.send:
        return {"state": State.SCHEDULED, "suppression_reason": ""}
    return {"state": State.SUPPRESSED, "suppression_reason": decision.reason}


def invitation_claim_due(*, now: datetime, batch_size: int) -> list[int]:
    """Lease a batch of due invitations to one sender.

    The lease keeps other sweeps off these rows; if the send task is lost (a Redis restart),
    the lease runs out and a later sweep claims them again. Sending itself starts with a
    conditional scheduled -> sending update, so a double claim can never double-send.
    """
    with transaction.atomic():
        ids = list(
            Invitation.objects.filter(state=State.SCHEDULED, due_at__lte=now)
            .exclude(claimed_until__gt=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        lease = now + timedelta(seconds=settings.INVITATION_CLAIM_LEASE_SECONDS)
        Invitation.objects.filter(pk__in=ids).update(claimed_until=lease)
    return ids


@dataclass
class SweepSummary:
    claimed: int = 0
    batches: int = 0
    expired: int = 0
    batch_results: list["BatchResult"] = field(default_factory=list)

    def __str__(self) -> str:
        sent = sum(r.sent for r in self.batch_results)
        line = f"claimed {self.claimed} in {self.batches} batch(es), expired {self.expired}"
        return line + (f", sent {sent}" if self.batch_results else "")


def invitations_sweep(
    *, send: Callable[[list[int]], "BatchResult | None"], now: datetime | None = None
) -> SweepSummary:
    """Expire stale invitations, then claim due ones batch by batch and hand each to send."""
    now = now or timezone.now()
    summary = SweepSummary(expired=invitations_expire(now=now))
    while ids := invitation_claim_due(now=now, batch_size=settings.INVITATION_BATCH_SIZE):
        summary.claimed += len(ids)
        summary.batches += 1
        result = send(ids)
        if result is not None:
            summary.batch_results.append(result)
    return summary


def invitations_expire(*, now: datetime) -> int:
    """Sent and unanswered past the validity: the invitation lapses."""
    return Invitation.objects.filter(state__in=[State.SENT], expires_at__lte=now).update(
        state=State.EXPIRED
    )


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    suppressed: int = 0


def _start_sending(ids: list[int], now: datetime) -> list[Invitation]:
    """scheduled -> sending, committed before any SMTP talk; returns the rows we now own."""
    with transaction.atomic():
        owned = list(
            Invitation.objects.filter(pk__in=ids, state=State.SCHEDULED)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("order__customer")
        )
        Invitation.objects.filter(pk__in=[i.pk for i in owned]).update(
            state=State.SENDING, sending_started_at=now, send_attempts=F("send_attempts") + 1
        )
    return owned


def _recheck(invitation: Invitation, now: datetime) -> Decision:
    rules = PolicyRules.from_policy(InvitationPolicy.live())
    facts = _facts_for(invitation.order, exclude_invitation=invitation.pk)
    return decide(rules, facts, now)


def invitation_send_batch(*, invitation_ids: list[int]) -> BatchResult:
    """Send each owned invitation over one SMTP connection; record every attempt."""
    now = timezone.now()
    result = BatchResult()
    owned = _start_sending(invitation_ids, now)
    if not owned:
        return result
    connection = get_connection()
    try:
        for invitation in owned:
            decision = _recheck(invitation, now)
            if not decision.send:
                _transition(invitation, State.SENDING, State.SUPPRESSED, reason=decision.reason)
                result.suppressed += 1
                continue
            outcome = _send_one(connection, invitation, EmailLog.Kind.INVITATION)
            setattr(result, outcome, getattr(result, outcome) + 1)
    finally:
        connection.close()
    return result


def _send_one(connection: object, invitation: Invitation, kind: str) -> str:
    message = emails.invitation_message(invitation, kind=kind)
    log = EmailLog(
        invitation=invitation,
        kind=kind,
        message_id=message.extra_headers["Message-ID"],
        to_email=invitation.order.customer.email,
    )
    try:
        connection.send_messages([message])
    except REFUSED_ERRORS as exc:
        log.outcome, log.error = EmailLog.Outcome.FAILED, repr(exc)
        _transition(invitation, State.SENDING, State.SEND_FAILED, error=repr(exc))
        log.save()
        return "failed"
    except Exception as exc:
        # The server may or may not have the message: never send it again automatically.
        logger.exception("ambiguous send failure for invitation %s", invitation.pk)
        log.outcome, log.error = EmailLog.Outcome.UNKNOWN, repr(exc)
        _transition(invitation, State.SENDING, State.SEND_UNKNOWN, error=repr(exc))
        log.save()
        return "unknown"
    log.outcome = EmailLog.Outcome.SENT
    with transaction.atomic():
        _transition(invitation, State.SENDING, State.SENT, sent_at=timezone.now())
        log.save()
    return "sent"


def _transition(
    invitation: Invitation,
    source: str,
    target: str,
    *,
    reason: str = "",
    error: str = "",
    **fields: object,
) -> bool:
    """The one place invitation states change: a conditional UPDATE from source to target."""
    updates = {"state": target, "suppression_reason": reason, "updated_at": timezone.now()}
    if error:
        updates["last_error"] = error
    updates.update(fields)
    changed = Invitation.objects.filter(pk=invitation.pk, state=source).update(**updates)
    if changed:
        for name, value in updates.items():
            setattr(invitation, name, value)
    return bool(changed)


RESPONDABLE = (State.SENT, State.RESPONDED, State.EXPIRED)


@transaction.atomic
def response_submit(
    *,
    invitation: Invitation,
    rating: int,
    comment: str = "",
    nps: int | None = None,
    contact_requested: bool = False,
    quote_allowed: bool = False,
) -> Response:
    """Store the customer's answer (one per invitation; a second submit edits it)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    now = timezone.now()
    fields = {
        "rating": rating,
        "comment": comment,
        "nps": nps,
        "contact_requested": contact_requested,
        "quote_allowed": quote_allowed,
    }
    response = Response.objects.filter(invitation=invitation).first()
    if response is None:
        response = Response.objects.create(invitation=invitation, submitted_at=now, **fields)
    else:
        Response.objects.filter(pk=response.pk).update(edited_at=now, **fields)
        response.refresh_from_db()
    _transition(invitation, invitation.state, State.RESPONDED, responded_at=now)
    if contact_requested:
        FollowUp.objects.get_or_create(response=response)
    return response


def customer_upsert(
    *, email: str, name: str = "", locale: str = "en", time_zone: str = "UTC"
) -> Customer:
    customer, _created = Customer.objects.update_or_create(
        email=customer_normalise_email(email),
        defaults={"name": name, "locale": locale, "time_zone": time_zone},
    )
    return customer
