"""The invitation pipeline: schedule on delivery, sweep due rows, send each one at most once.

State changes are conditional UPDATEs (from state X to Y, WHERE state = X), and every
message is recorded in EmailLog and committed as `sending` before any SMTP talk.
"""

import itertools
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from feedback import emails, states, tokens
from feedback.models import (
    Customer,
    DailySendCount,
    DeliveryEvent,
    EmailLog,
    Invitation,
    InvitationPolicy,
    Order,
    OrderItem,
    Suppression,
    WebhookEventType,
)
from feedback.rules import Decision, Facts, PolicyRules, decide
from feedback.services.brake import BrakeWatch
from feedback.services.rollups import rollups_tracked
from feedback.services.suppressions import delivery_event_record
from feedback.services.webhooks import invitation_data, webhook_emit

logger = logging.getLogger(__name__)

State = Invitation.State
Kind = EmailLog.Kind


def live_rules() -> PolicyRules:
    return PolicyRules.from_policy(InvitationPolicy.live())


def _facts(order: Order, customer: Customer, *, listed: str, **extra: object) -> Facts:
    """The rules' facts; `listed` is the address's reason on the suppression list, or ""."""
    return Facts(
        order_external_id=order.external_id,
        delivered_at=order.delivered_at,
        has_email=bool(customer.email),
        opted_out=customer.invitations_stopped_at is not None,
        suppressed=bool(listed) and listed not in Suppression.UNDELIVERABLE,
        undeliverable=listed in Suppression.UNDELIVERABLE,
        consent=customer.consent,
        time_zone=customer.time_zone,
        last_invited_at=customer.last_invited_at,
        **extra,
    )


def _listed(customers: list[Customer]) -> dict[int, str]:
    """The suppression list's reason for each of these customers whose address is on it,
    in one read."""
    hashes = {tokens.address_hash(c.email): c.pk for c in customers if c.email}
    listed = Suppression.objects.filter(address_hash__in=hashes)
    return {
        hashes[address_hash]: reason
        for address_hash, reason in listed.values_list("address_hash", "reason")
    }


# Scheduling ---------------------------------------------------------------------------


@transaction.atomic
def order_mark_delivered(*, order: Order, delivered_at: datetime) -> Invitation:
    """Record delivery once and schedule the order's invitation; a repeat changes nothing."""
    Order.objects.filter(pk=order.pk, delivered_at__isnull=True).update(
        delivered_at=delivered_at, updated_at=timezone.now()
    )
    order.refresh_from_db()
    return invitation_schedule(order=order)


def invitation_schedule(*, order: Order, now: datetime | None = None) -> Invitation:
    """Create the order's one invitation, scheduled or suppressed with its reason.

    Idempotent: an order that has its invitation keeps it, whatever changed since.
    """
    if order.delivered_at is None:
        raise ValueError(f"order {order.external_id} is not delivered")
    invitations_schedule(orders=[order], now=now)
    return Invitation.objects.get(order=order)


def invitations_schedule(*, orders: Sequence[Order], now: datetime | None = None) -> int:
    """Give each delivered order without an invitation its one invitation, scheduled or
    suppressed with its reason, in a fixed number of queries (an import schedules
    thousands). Idempotent: an order that has its invitation keeps it, and the
    one-per-order constraint settles a race (the loser's row is dropped by ON CONFLICT DO
    NOTHING). Returns how many it inserted or found inserted by a concurrent call."""
    delivered = {order.pk: order for order in orders if order.delivered_at is not None}
    have = set(Invitation.objects.filter(order_id__in=delivered).values_list("order_id", flat=True))
    todo = [order for pk, order in sorted(delivered.items()) if pk not in have]
    if not todo:
        return 0
    # Fresh from the database: the cooldown reads last_invited_at and the opt-out
    # invitations_stopped_at.
    customers = Customer.objects.in_bulk({order.customer_id for order in todo})
    listed = _listed(list(customers.values()))
    rules = live_rules()
    now = now or timezone.now()
    invitations = []
    for order in todo:
        customer = customers[order.customer_id]
        facts = _facts(order, customer, listed=listed.get(customer.pk, ""))
        decision = decide(rules, facts, now)
        # Creation, not a transition: the new row starts in one of the two first states.
        state = State.SCHEDULED if decision.send else State.SUPPRESSED
        nonce = tokens.new_nonce()
        invitations.append(
            Invitation(
                order=order,
                customer=customer,
                state=state,
                suppression_reason=decision.reason,
                due_at=decision.due_at,
                expires_at=decision.due_at + timedelta(days=rules.invitation_valid_days),
                token_nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for(nonce)),
            )
        )
    # A suppressed invitation counts on the dashboard (by its due day) from its creation.
    with rollups_tracked(Invitation.objects.filter(order_id__in=[order.pk for order in todo])):
        Invitation.objects.bulk_create(invitations, ignore_conflicts=True, batch_size=1000)
    return len(invitations)


# The sweep ----------------------------------------------------------------------------


def invitation_claim_due(*, now: datetime, batch_size: int) -> list[int]:
    """Lease a batch of due invitations to one sender.

    The lease keeps other sweeps from queueing the same rows again; if the send task is
    lost (a Redis restart), the lease runs out and a later sweep claims them again. Each
    send starts with its own conditional scheduled -> sending update, so a double claim
    can never double-send.
    """
    with transaction.atomic():
        ids = list(
            Invitation.objects.filter(state=State.SCHEDULED, due_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        # From the claim's own time: a long sweep's later batches get full leases too.
        lease = timezone.now() + timedelta(seconds=settings.INVITATION_CLAIM_LEASE_SECONDS)
        Invitation.objects.filter(pk__in=ids).update(claimed_until=lease)
    return ids


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unknown: int = 0
    suppressed: int = 0
    deferred: int = 0
    skipped: int = 0
    given_back: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def merge(self, other: "BatchResult") -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class SweepSummary:
    claimed: int = 0
    batches: int = 0
    expired: int = 0
    woken: int = 0
    stale: int = 0
    results: BatchResult = field(default_factory=BatchResult)
    sent_inline: bool = False
    paused: bool = False

    def __str__(self) -> str:
        line = (
            f"claimed {self.claimed} in {self.batches} batch(es), expired {self.expired}, "
            f"snoozes due {self.woken}, stale sends {self.stale}"
        )
        if self.paused:
            line += ", sending paused by the brake"
        if not self.sent_inline:
            return line + ", queued for workers"
        r = self.results
        return line + (
            f", sent {r.sent}, suppressed {r.suppressed}, deferred {r.deferred}, "
            f"retrying {r.retrying}, failed {r.failed}, unknown {r.unknown}, "
            f"given back {r.given_back}"
        )


def invitations_sweep(
    *, send: Callable[[list[int]], BatchResult | None], now: datetime | None = None
) -> SweepSummary:
    """One sweep: housekeeping, then claim due invitations batch by batch and hand each
    batch to `send`: one that queues it for a worker (returns None) or sends it here."""
    now = now or timezone.now()
    summary = SweepSummary(
        expired=invitations_expire(now=now),
        woken=invitations_wake_snoozed(now=now),
        stale=invitations_recover_stale(now=now),
        sent_inline=send is send_here,
    )
    # Queueing is bounded: a huge backlog is taken a slice a minute, so queued batches are
    # sent before their leases run out rather than being claimed and queued again.
    batches = None if summary.sent_inline else settings.INVITATION_SWEEP_MAX_BATCHES
    brake = BrakeWatch(InvitationPolicy.live())
    for _ in itertools.repeat(None, batches) if batches else itertools.count():
        if brake.pause_in_force(now=timezone.now()) is not None:
            summary.paused = True  # due invitations wait for Ops to resume
            break
        ids = invitation_claim_due(now=now, batch_size=settings.INVITATION_BATCH_SIZE)
        if not ids:
            break
        summary.claimed += len(ids)
        summary.batches += 1
        if result := send(ids):
            summary.results.merge(result)
            if result.given_back:
                break  # the mail server is unreachable: the next sweep tries again
    return summary


def send_here(ids: list[int]) -> BatchResult:
    """Send a claimed batch from this process (the command's default)."""
    return invitation_send_batch(invitation_ids=ids)


def invitations_expire(*, now: datetime) -> int:
    """Sent and unanswered past its validity: the invitation lapses."""
    return states.transition(
        Invitation.objects.filter(expires_at__lte=now), to=State.EXPIRED, now=now
    )


def invitations_wake_snoozed(*, now: datetime) -> int:
    """The day a customer chose for "ask me later" has come: schedule the one later email."""
    return states.transition(
        Invitation.objects.filter(due_at__lte=now),
        to=State.SCHEDULED,
        source=[State.SNOOZED],
        claimed_until=None,
        now=now,
    )


def invitations_recover_stale(*, now: datetime) -> int:
    """A send that never finished (its process died): the message may have gone out, so
    it becomes send_unknown for a human, and is never sent again automatically."""
    cutoff = now - timedelta(seconds=settings.INVITATION_SENDING_TIMEOUT_SECONDS)
    stale = Invitation.objects.filter(sending_started_at__lt=cutoff, state=State.SENDING)
    with rollups_tracked(
        Invitation.objects.filter(pk__in=list(stale.values_list("pk", flat=True)))
    ):
        return states.transition(
            stale, to=State.SEND_UNKNOWN, last_error="interrupted while sending", now=now
        )


# Sending ------------------------------------------------------------------------------


@dataclass
class Attempt:
    invitation: Invitation
    log: EmailLog
    started_at: datetime
    previous_last_invited_at: datetime | None
    counted_day: object = None


def invitation_send_batch(
    *,
    invitation_ids: list[int],
    now: datetime | None = None,
    connection: BaseEmailBackend | None = None,
) -> BatchResult:
    """Send each invitation we can claim, one at a time, over one reused mail connection
    (`connection`: the configured backend unless given; `now`: the clock, unless given).

    Each message is committed as `sending` before any SMTP talk and recorded after it, in
    transactions of its own: a crash leaves at most the one message being handed over
    `sending` (a later sweep makes it send_unknown); the rest of the batch is still
    `scheduled` and goes out then. If the mail server cannot be reached, nothing was handed
    over: the batch stops and gives its claims back for the next sweep. So does the brake
    (services/brake.py): when sending pauses, the rest of the batch waits, still scheduled.
    """
    result = BatchResult()
    policy = InvitationPolicy.live()  # one read per batch; a batch takes seconds
    rules = PolicyRules.from_policy(policy)
    brake = BrakeWatch(policy)
    items = _items_by_order(invitation_ids)
    connection = connection or get_connection()
    try:
        for position, invitation_id in enumerate(invitation_ids):
            # Before every message: a run of complaints stops the batch half-way. On the
            # real clock, as the EmailLog and DeliveryEvent rows it counts are stamped.
            paused = brake.pause_in_force(now=timezone.now()) is not None
            if paused or not _connected(connection):
                result.given_back += _give_back(invitation_ids[position:])
                break
            attempt = _begin(invitation_id, rules, now or timezone.now(), result)
            if attempt is not None:
                outcome, error = _deliver(connection, attempt, items)
                result.add(_finish(attempt, outcome, error, now or timezone.now()))
    finally:
        connection.close()
    return result


def _connected(connection: BaseEmailBackend) -> bool:
    """Open the connection if it is not open. False when the server cannot be reached:
    refused, no greeting in time, TLS or login failed. Nothing can have been handed over."""
    try:
        connection.open()
    except Exception as exc:
        logger.warning("mail server unreachable, the batch stops: %r", exc)
        connection.close()
        return False
    return True


def _give_back(invitation_ids: list[int]) -> int:
    """The batch's claims it did not get to: a later sweep claims them again at once."""
    return Invitation.objects.filter(pk__in=invitation_ids, state=State.SCHEDULED).update(
        claimed_until=None
    )


def _items_by_order(invitation_ids: list[int]) -> dict[int, list[OrderItem]]:
    """The batch's order items, for the emails, in one read."""
    items = defaultdict(list)
    for item in OrderItem.objects.filter(order__invitation__in=invitation_ids).order_by("pk"):
        items[item.order_id].append(item)
    return items


def _deliver(
    connection: BaseEmailBackend, attempt: Attempt, items: dict[int, list[OrderItem]]
) -> tuple[str, Exception | None]:
    """Hand one message over. The outcome, by what the server had accepted when it failed:
    "sent"; "temporary" (a 4xx, or our sender refused: nothing delivered, retry later);
    "permanent" (a 5xx for the recipient or the message: never retried); "unknown" (the
    connection failed mid-conversation: the server may have the message)."""
    message = emails.invitation_message(
        attempt.invitation,
        kind=attempt.log.kind,
        message_id=attempt.log.message_id,
        items=items.get(attempt.invitation.order_id, []),
        email_log_id=attempt.log.pk,
    )
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply in exc.recipients.values()]
        return ("permanent" if all(code >= 500 for code in codes) else "temporary"), exc
    except smtplib.SMTPDataError as exc:
        return ("permanent" if exc.smtp_code >= 500 else "temporary"), exc
    except smtplib.SMTPSenderRefused as exc:
        return "temporary", exc
    except Exception as exc:
        # After an error the connection's state is unknown: the next message reconnects.
        connection.close()
        return "unknown", exc
    return "sent", None


@transaction.atomic
def _begin(
    invitation_id: int, rules: PolicyRules, now: datetime, result: BatchResult
) -> Attempt | None:
    """scheduled -> sending for one invitation, with the rules checked once more under row
    locks; committed before any SMTP talk. None when it is not to be sent now."""
    waiting = Invitation.objects.filter(pk=invitation_id, state=State.SCHEDULED)
    # The customer first, then the invitation: the order every writer locks in, so a send
    # and a "stop all" wait for each other instead of deadlocking. The customer's lock
    # also serialises their sends, which is what makes the cooldown hold.
    customer = (
        Customer.objects.select_for_update().filter(pk__in=waiting.values("customer_id")).first()
    )
    invitation = waiting.select_for_update(of=("self",)).select_related("order").first()
    if customer is None or invitation is None:
        result.add("skipped")  # sent, answered or taken by another sender meanwhile
        return None
    invitation.customer = invitation.order.customer = customer
    outcome = _check(invitation, rules, now)
    if isinstance(outcome, str):
        result.add(outcome)
        return None
    return _mark_sending(invitation, rules, now, counted_day=outcome)


def _check(invitation: Invitation, rules: PolicyRules, now: datetime) -> str | object:
    """The rules once more at send time. Returns an outcome when not sending now, or the
    day whose cap slot was taken (None without a cap)."""
    kind = _kind(invitation)
    decision = _decide_now(rules, invitation, kind, now)
    if not decision.send:
        _suppress(invitation, decision.reason, now)
        return "suppressed"
    if decision.due_at > now + timedelta(minutes=1):
        # Outside the customer's window now (e.g. a backlog at night): wait for it.
        states.transition(
            invitation,
            to=State.SCHEDULED,
            source=[State.SCHEDULED],
            due_at=decision.due_at,
            claimed_until=None,
            now=now,
        )
        return "deferred"
    if kind == Kind.INVITATION and rules.daily_send_cap is not None:
        if not _reserve_daily_slot(now.date(), rules.daily_send_cap):
            _suppress(invitation, Invitation.Reason.DAILY_CAP, now)
            return "suppressed"
        return now.date()
    return None


def _suppress(invitation: Invitation, reason: str, now: datetime) -> None:
    # Not sent after all: the dashboard counts it (by its due day) among the suppressed.
    with rollups_tracked(Invitation.objects.filter(pk=invitation.pk)):
        states.transition(invitation, to=State.SUPPRESSED, reason=reason, now=now)


def _kind(invitation: Invitation) -> str:
    return Kind.LATER if invitation.snooze_count else Kind.INVITATION


def _decide_now(rules: PolicyRules, invitation: Invitation, kind: str, now: datetime) -> Decision:
    sent_today = 0
    if rules.daily_send_cap is not None:
        row = DailySendCount.objects.filter(day=now.date()).first()
        sent_today = row.sent if row else 0
    facts = _facts(
        invitation.order,
        invitation.customer,
        listed=_listed([invitation.customer]).get(invitation.customer.pk, ""),
        is_later=kind == Kind.LATER,
        sent_that_day=sent_today,
        due_at=invitation.due_at,
    )
    return decide(rules, facts, now)


def _reserve_daily_slot(day: object, cap: int) -> bool:
    """The daily cap as one conditional UPDATE: holds with any number of senders."""
    if not DailySendCount.objects.filter(day=day).exists():
        already = Invitation.objects.filter(sent_at__date=day).count()
        DailySendCount.objects.bulk_create(
            [DailySendCount(day=day, sent=already)], ignore_conflicts=True
        )
    return bool(DailySendCount.objects.filter(day=day, sent__lt=cap).update(sent=F("sent") + 1))


def _mark_sending(
    invitation: Invitation, rules: PolicyRules, now: datetime, *, counted_day: object
) -> Attempt:
    """scheduled -> sending, the customer's cooldown and the EmailLog row (the rows are
    locked: nothing else changes them meanwhile)."""
    customer = invitation.customer
    kind = _kind(invitation)
    attempt = Attempt(
        invitation=invitation,
        log=EmailLog(
            invitation=invitation,
            kind=kind,
            message_id=emails.new_message_id(invitation, kind=kind),
            to_email=customer.email,
        ),
        started_at=now,
        previous_last_invited_at=customer.last_invited_at,
        counted_day=counted_day,
    )
    states.transition(
        invitation,
        to=State.SENDING,
        sending_started_at=now,
        send_attempts=invitation.send_attempts + 1,  # the row is locked
        expires_at=now + timedelta(days=rules.invitation_valid_days),
        now=now,
    )
    if kind == Kind.INVITATION:
        Customer.objects.filter(pk=customer.pk).update(last_invited_at=now)
    attempt.log.save()
    return attempt


@transaction.atomic
def _finish(attempt: Attempt, outcome: str, error: Exception | None, now: datetime) -> str:
    """Record what the mail server said about one message."""
    with rollups_tracked(Invitation.objects.filter(pk=attempt.invitation.pk)):
        return _record(attempt, outcome, error, now)


def _record(attempt: Attempt, outcome: str, error: Exception | None, now: datetime) -> str:
    if outcome == "sent":
        return _sent(attempt, now)
    if outcome == "temporary":
        return _refused_for_now(attempt, error, now)
    if outcome == "permanent":
        return _refused_for_good(attempt, error, now)
    return _unknown(attempt, error, now)


def _sent(attempt: Attempt, now: datetime) -> str:
    invitation = attempt.invitation
    # The server took it. If a sweep meanwhile judged it stale, the truth is "sent"; if
    # the customer answered or declined meanwhile, the state stays and the time is kept.
    moved = states.transition(invitation, to=State.SENT, sent_at=now, last_error="", now=now)
    if not moved:
        Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now)
    EmailLog.objects.filter(pk=attempt.log.pk).update(outcome=EmailLog.Outcome.SENT)
    webhook_emit(
        type=WebhookEventType.INVITATION_SENT,
        data=invitation_data(invitation, kind=attempt.log.kind, sent_at=now),
        customer=invitation.customer,
        now=now,
    )
    return "sent"


def _refused_for_now(attempt: Attempt, exc: Exception, now: datetime) -> str:
    """Not delivered, for now: undo the attempt and retry with backoff, up to
    INVITATION_MAX_SEND_ATTEMPTS, then give up as send_failed."""
    invitation = attempt.invitation
    error = _failed(attempt, exc)
    if invitation.send_attempts >= settings.INVITATION_MAX_SEND_ATTEMPTS:
        states.transition(invitation, to=State.SEND_FAILED, last_error=error, now=now)
        return "failed"
    backoff = settings.INVITATION_RETRY_BACKOFF_SECONDS * 4 ** (invitation.send_attempts - 1)
    states.transition(
        invitation,
        to=State.SCHEDULED,
        source=[State.SENDING],
        last_error=error,
        due_at=now + timedelta(seconds=backoff),
        claimed_until=None,
        now=now,
    )
    return "retrying"


def _refused_for_good(attempt: Attempt, exc: Exception, now: datetime) -> str:
    """Refused for good (a 5xx): not delivered, and never retried; the reply is kept, and
    the address goes on the suppression list (a hard bounce, from the SMTP reply)."""
    error = _failed(attempt, exc)
    states.transition(attempt.invitation, to=State.SEND_FAILED, last_error=error, now=now)
    delivery_event_record(
        kind=DeliveryEvent.Kind.HARD_BOUNCE,
        source=DeliveryEvent.Source.SMTP,
        email_log=attempt.log,
        detail=_smtp_reply(exc),
        occurred_at=now,
    )
    return "failed"


def _smtp_reply(exc: Exception) -> str:
    """The server's words ("550 5.1.1 no such user"), without the address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients.values()
    else:
        replies = [(getattr(exc, "smtp_code", ""), getattr(exc, "smtp_error", b""))]
    return "; ".join(
        f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for code, text in replies
    )


def _failed(attempt: Attempt, exc: Exception) -> str:
    """Record a refusal on the attempt's EmailLog and give back what the attempt took."""
    error = repr(exc)[:2000]
    EmailLog.objects.filter(pk=attempt.log.pk).update(outcome=EmailLog.Outcome.FAILED, error=error)
    _release(attempt)
    return error


def _release(attempt: Attempt) -> None:
    """Give back what the refused attempt took: the customer's cooldown and the day's slot."""
    customer = attempt.invitation.customer
    if attempt.log.kind == Kind.INVITATION:
        Customer.objects.filter(pk=customer.pk, last_invited_at=attempt.started_at).update(
            last_invited_at=attempt.previous_last_invited_at
        )
    if attempt.counted_day is not None:
        DailySendCount.objects.filter(day=attempt.counted_day).update(sent=F("sent") - 1)


def _unknown(attempt: Attempt, exc: Exception, now: datetime) -> str:
    # The server may have the message: never send it again automatically.
    logger.warning("ambiguous send failure for invitation %s: %r", attempt.invitation.pk, exc)
    error = repr(exc)[:2000]
    EmailLog.objects.filter(pk=attempt.log.pk).update(error=error)
    states.transition(attempt.invitation, to=State.SEND_UNKNOWN, last_error=error, now=now)
    return "unknown"
