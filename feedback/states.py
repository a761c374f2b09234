"""The invitation state machine: the states, the transitions allowed between them, the named
groups of states, and transition(), the one function in the project that changes a state.

    scheduled ──> sending ──> sent ──> responded / declined / expired
        │            │          └────> snoozed ──> scheduled (the one "later" email)
        │            ├──> scheduled (refused by the mail server: retried with backoff)
        │            ├──> send_failed (refused for good)
        │            └──> send_unknown (a crash or an ambiguous error: a human looks)
        └──> suppressed (a rule forbids sending; also "stop all" and erasure)

A customer may answer or decline whenever they evidently hold the link, so `sending` and
`send_unknown` may become `responded` or `declined` too.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from feedback.models import Invitation, InvitationState, Review, ReviewState

State = InvitationState

# target <- the states it may be reached from. Creation (scheduled or suppressed) is not a
# transition: feedback.services.invitations.invitation_schedule creates the row.
SOURCES: dict[str, frozenset[str]] = {
    # Rescheduling a scheduled invitation (outside the send window now) moves its due time.
    State.SCHEDULED: frozenset({State.SCHEDULED, State.SENDING, State.SNOOZED}),
    State.SENDING: frozenset({State.SCHEDULED}),
    # send_unknown -> sent: the server's answer came after a sweep judged the send stale.
    State.SENT: frozenset({State.SENDING, State.SEND_UNKNOWN}),
    State.RESPONDED: frozenset(
        {State.SCHEDULED, State.SENDING, State.SENT, State.SNOOZED, State.SEND_UNKNOWN}
    ),
    State.DECLINED: frozenset(
        {State.SCHEDULED, State.SENDING, State.SENT, State.SNOOZED, State.SEND_UNKNOWN}
    ),
    State.EXPIRED: frozenset({State.SENT}),
    State.SNOOZED: frozenset({State.SENT}),
    State.SUPPRESSED: frozenset({State.SCHEDULED, State.SNOOZED}),
    State.SEND_FAILED: frozenset({State.SENDING}),
    State.SEND_UNKNOWN: frozenset({State.SENDING}),
}

# Named groups -------------------------------------------------------------------------

# Not sent yet, and may still be: what "stop all invitations" and erasure suppress.
WAITING = frozenset({State.SCHEDULED, State.SNOOZED})
# The customer may hold the link: an email was, or may have been, sent with it.
LINKED = frozenset(
    {
        State.SENDING,
        State.SENT,
        State.SNOOZED,
        State.RESPONDED,
        State.DECLINED,
        State.EXPIRED,
        State.SEND_UNKNOWN,
    }
)
# Open to the customer's choices ("later", "no thanks") from their link.
OPEN = SOURCES[State.DECLINED]
# A first answer is taken in these states.
ANSWERABLE = SOURCES[State.RESPONDED]
# Due in a period but never reached the customer (the dashboard's "not sent").
NOT_SENT = frozenset({State.SUPPRESSED, State.SEND_FAILED, State.SEND_UNKNOWN})
# Nothing moves out of these.
FINAL = frozenset(state for state in State if not any(state in s for s in SOURCES.values()))


class TransitionNotAllowed(ValueError):
    """A caller asked for a move the table does not allow: a programming error."""


def allowed(source: str, target: str) -> bool:
    return source in SOURCES[target]


def transition(
    invitations: Invitation | QuerySet,
    *,
    to: str,
    source: Iterable[str] | None = None,
    reason: str = "",
    now: datetime | None = None,
    **fields: object,
) -> int:
    """Move invitations to `to` from the allowed source states (or the narrower `source`),
    with one conditional UPDATE; returns how many rows moved.

    Rows in any other state are left as they are: that is how a race is decided (the
    first UPDATE wins; the second finds the state changed and moves nothing). Given an
    instance, it is updated in memory when its row moved. `reason` is the suppression
    reason, required for `suppressed` and cleared for any other state.
    """
    sources = SOURCES[to] if source is None else frozenset(source)
    if refused := sorted(sources - SOURCES[to]):
        raise TransitionNotAllowed(f"{', '.join(refused)} -> {to} is not allowed")
    if (to == State.SUPPRESSED) != bool(reason):
        raise TransitionNotAllowed("a suppression reason goes with 'suppressed', and only there")
    updates = {
        "state": to,
        "suppression_reason": reason,
        "updated_at": now or timezone.now(),
        **fields,
    }
    instance = invitations if isinstance(invitations, Invitation) else None
    rows = Invitation.objects.filter(pk=instance.pk) if instance else invitations
    moved = rows.filter(state__in=sources).update(**updates)
    if instance and moved:
        computed = [name for name, value in updates.items() if hasattr(value, "resolve_expression")]
        for name, value in updates.items():
            if name not in computed:
                setattr(instance, name, value)
        if computed:
            instance.refresh_from_db(fields=computed)
    return moved


def is_expired(invitation: Invitation, now: datetime) -> bool:
    """Past its expiry time and unanswered: expired, whether or not the sweep has moved it
    to `expired` yet (the sweep runs once a minute; the customer must not see a gap)."""
    if invitation.state == State.EXPIRED:
        return True
    if invitation.state not in ANSWERABLE or invitation.expires_at is None:
        return False
    return invitation.expires_at <= now


# Reviews ------------------------------------------------------------------------------
#
#     pending ──> published / rejected      (a moderator, for the revision they read)
#        ^  \──────────────┴──> withdrawn   (consent withdrawn, the quote unticked, erasure)
#        └── an edit of the answer, or consent given again, from any state
#
# Creation (pending) is not a transition: feedback.services.reviews.review_sync makes it.

REVIEW_SOURCES: dict[str, frozenset[str]] = {
    ReviewState.PENDING: frozenset(ReviewState.values),
    ReviewState.PUBLISHED: frozenset({ReviewState.PENDING}),
    ReviewState.REJECTED: frozenset({ReviewState.PENDING}),
    ReviewState.WITHDRAWN: frozenset(
        {ReviewState.PENDING, ReviewState.PUBLISHED, ReviewState.REJECTED}
    ),
}


def review_transition(
    reviews: Review | QuerySet, *, to: str, reason: str = "", **fields: object
) -> int:
    """Move reviews to `to` from its allowed source states with one conditional UPDATE
    (narrowed further by the caller's queryset, e.g. to the revision a moderator read);
    returns how many rows moved. `reason` is the rejection reason, required for
    `rejected` and cleared for any other state."""
    if (to == ReviewState.REJECTED) != bool(reason):
        raise TransitionNotAllowed("a rejection reason goes with 'rejected', and only there")
    rows = Review.objects.filter(pk=reviews.pk) if isinstance(reviews, Review) else reviews
    return rows.filter(state__in=REVIEW_SOURCES[to]).update(
        state=to, reject_reason=reason, **fields
    )
