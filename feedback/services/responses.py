from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from feedback.models import FollowUp, Invitation, Response

State = Invitation.State

# States from which a customer's answer is taken.
ANSWERABLE = (State.SENT, State.SNOOZED, State.SCHEDULED, State.RESPONDED, State.EXPIRED)


def response_submit(
    *,
    invitation: Invitation,
    rating: int,
    comment: str = "",
    nps: int | None = None,
    contact_requested: bool = False,
    quote_allowed: bool = False,
) -> None:
    """Store the customer's answer: one per invitation; a second submit edits it.

    The unique invitation of a Response serialises a double submit (two tabs, a double
    click): the second insert waits for the first, fails, and becomes an edit. A
    follow-up exists only when the customer asked to be contacted.
    """
    now = timezone.now()
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
