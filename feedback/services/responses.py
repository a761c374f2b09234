from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from feedback import selectors, tokens
from feedback.models import FollowUp, Invitation, Response

State = Invitation.State

# States from which a customer's answer is taken.
ANSWERABLE = (State.SENT, State.SNOOZED, State.SCHEDULED, State.RESPONDED, State.EXPIRED)

# The customer page's two common submits, each in one statement on PostgreSQL (see
# answer_by_link). `invitation` is the link's, if it waits for an answer or holds one.
# `answer` inserts a first answer, queues its contact request (`follow_up`) and marks the
# invitation answered (`answered`). `edit` changes the earlier answer if the edit changes
# the answer only: within the edit window, and the contact request neither starts nor ends.
_ANSWER_BY_LINK_SQL = """
WITH invitation AS (
    SELECT id, state FROM feedback_invitation
    WHERE token_hash = %(token_hash)s AND state = ANY(%(fast_states)s)
), answer AS (
    INSERT INTO feedback_response
        (invitation_id, rating, nps, comment, contact_requested, quote_allowed, submitted_at)
    SELECT id, %(rating)s, %(nps)s, %(comment)s, %(contact_requested)s, %(quote_allowed)s,
           %(now)s
    FROM invitation WHERE state <> %(responded)s
    ON CONFLICT (invitation_id) DO NOTHING
    RETURNING id, invitation_id, contact_requested
), edit AS (
    UPDATE feedback_response AS earlier
    SET rating = %(rating)s, nps = %(nps)s, comment = %(comment)s,
        quote_allowed = %(quote_allowed)s, edited_at = %(now)s
    FROM invitation
    WHERE earlier.invitation_id = invitation.id AND invitation.state = %(responded)s
      AND earlier.submitted_at > %(editable_since)s
      AND NOT earlier.contact_requested AND NOT %(contact_requested)s
    RETURNING earlier.id
), follow_up AS (
    INSERT INTO feedback_followup (response_id, status, notes, created_at)
    SELECT id, %(open)s, '', %(now)s FROM answer WHERE contact_requested
), answered AS (
    UPDATE feedback_invitation
    SET state = %(responded)s, responded_at = %(now)s, claimed_until = NULL, updated_at = %(now)s
    WHERE id IN (SELECT invitation_id FROM answer) AND state = ANY(%(answerable)s)
)
SELECT (SELECT count(*) FROM answer) + (SELECT count(*) FROM edit)
"""
# A first answer is taken at once from these states; an edit from RESPONDED.
_FAST_STATES = (State.SENT, State.SNOOZED, State.RESPONDED)


def answer_by_link(
    *,
    token: str,
    rating: int,
    comment: str = "",
    nps: int | None = None,
    contact_requested: bool = False,
    quote_allowed: bool = False,
) -> bool:
    """The customer's answer, stored by the link's token alone if it is one of the two
    common submits: a first answer to a sent or snoozed invitation, or an edit that
    changes the answer only. False in any other case (nothing is written): the caller
    looks the invitation up and takes response_submit's path.

    One statement, atomic on its own, in one round trip: no look-up first, no BEGIN and
    COMMIT. Its result is what response_submit would store. A double submit's loser
    finds the winner's answer and edits it, or returns False. PostgreSQL only; elsewhere
    always False.
    """
    token_hash = tokens.lookup_hash(token)
    if connection.vendor != "postgresql" or token_hash is None:
        return False
    now = timezone.now()
    params = {
        "token_hash": token_hash,
        "rating": rating,
        "comment": comment,
        "nps": nps,
        "contact_requested": contact_requested,
        "quote_allowed": quote_allowed,
        "now": now,
        "editable_since": selectors.editable_since(now),
        "fast_states": [state.value for state in _FAST_STATES],
        "responded": State.RESPONDED.value,
        "answerable": [state.value for state in ANSWERABLE],
        "open": FollowUp.Status.OPEN.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ANSWER_BY_LINK_SQL, params)
        return cursor.fetchone()[0] == 1


def response_submit(
    *,
    invitation: Invitation,
    rating: int,
    comment: str = "",
    nps: int | None = None,
    contact_requested: bool = False,
    quote_allowed: bool = False,
    now: datetime | None = None,
) -> None:
    """Store the customer's answer: one per invitation; a second submit edits it.

    The unique invitation of a Response serialises a double submit (two tabs, a double
    click): the second insert waits for the first, fails, and becomes an edit. A
    follow-up exists only when the customer asked to be contacted.
    """
    now = now or timezone.now()
    fields = {
        "rating": rating,
        "comment": comment,
        "nps": nps,
        "contact_requested": contact_requested,
        "quote_allowed": quote_allowed,
    }
    answers = Response.objects.filter(invitation_id=invitation.pk)
    if _plain_edit(invitation, contact_requested) and answers.update(edited_at=now, **fields):
        return  # one statement, atomic on its own: nothing else changes
    if _first_answer(invitation):
        try:
            with transaction.atomic():
                answer = Response.objects.create(
                    invitation_id=invitation.pk, submitted_at=now, **fields
                )
                _answered(invitation, answer, now)
            return
        except IntegrityError:
            pass  # another submit (a second tab) stored the answer first: this one edits it
    with transaction.atomic():
        _store(invitation, answers, now, fields)


def _plain_edit(invitation: Invitation, contact_requested: bool) -> bool:
    """Is this an edit that changes the answer only? The invitation is already answered,
    and the contact request neither starts nor ends. Known without a query only from the
    customer page's lookup; any other caller takes the full path."""
    _known, earlier = _earlier_answer(invitation)
    if invitation.state != State.RESPONDED or earlier is None:
        return False
    return not earlier.contact_requested and not contact_requested


def _first_answer(invitation: Invitation) -> bool:
    """Did the customer page's lookup find no answer yet? Then this submit inserts, with
    no need to try an update first (a double submit's loser is caught by the unique key)."""
    known, earlier = _earlier_answer(invitation)
    return known and earlier is None


def _earlier_answer(invitation: Invitation) -> tuple[bool, Response | None]:
    """Whether the caller's lookup read the invitation's answer, and that answer (None:
    not answered yet). The customer page's lookup always reads it."""
    if not Invitation.response.is_cached(invitation):
        return False, None
    return True, getattr(invitation, "response", None)


def _store(invitation: Invitation, answers: QuerySet, now: datetime, fields: dict) -> None:
    contact_requested = fields["contact_requested"]
    if not answers.update(edited_at=now, **fields):
        try:
            with transaction.atomic():  # a savepoint: the insert may lose a race
                Response.objects.create(invitation_id=invitation.pk, submitted_at=now, **fields)
        except IntegrityError:
            answers.update(edited_at=now, **fields)
    if contact_requested:
        FollowUp.objects.get_or_create(response=answers.get())
    elif _had_asked_for_contact(invitation):
        # Unticked in an edit: nobody may contact them now, so the request leaves the
        # queue with its notes; ticking the box again opens a new one.
        FollowUp.objects.filter(response__invitation_id=invitation.pk).delete()
    _mark_responded(invitation, now)


def _answered(invitation: Invitation, answer: Response, now: datetime) -> None:
    """After a first answer: the invitation is answered; a contact request is queued."""
    if answer.contact_requested:
        FollowUp.objects.create(response=answer)
    _mark_responded(invitation, now)


def _mark_responded(invitation: Invitation, now: datetime) -> None:
    if invitation.state != State.RESPONDED:
        Invitation.objects.filter(pk=invitation.pk, state__in=ANSWERABLE).update(
            state=State.RESPONDED, responded_at=now, claimed_until=None, updated_at=now
        )


def _had_asked_for_contact(invitation: Invitation) -> bool:
    """Did the answer before this submit ask for contact? Read by the caller's lookup, or
    else asked of the database."""
    known, earlier = _earlier_answer(invitation)
    if not known:
        return FollowUp.objects.filter(response__invitation_id=invitation.pk).exists()
    return earlier is not None and earlier.contact_requested
