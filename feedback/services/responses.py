from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.models import FollowUp, Invitation, Response

State = Invitation.State

# States from which a customer's answer is taken.
ANSWERABLE = (State.SENT, State.SNOOZED, State.SCHEDULED, State.RESPONDED, State.EXPIRED)


@transaction.atomic
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
    if not answers.update(edited_at=now, **fields):
        try:
            with transaction.atomic():  # a savepoint: the insert may lose a race
                Response.objects.create(invitation_id=invitation.pk, submitted_at=now, **fields)
        except IntegrityError:
            answers.update(edited_at=now, **fields)
    if invitation.state != State.RESPONDED:
        Invitation.objects.filter(pk=invitation.pk, state__in=ANSWERABLE).update(
            state=State.RESPONDED, responded_at=now, claimed_until=None, updated_at=now
        )
    if contact_requested:
        FollowUp.objects.get_or_create(response=answers.get())
    elif _had_asked_for_contact(invitation):
        # Unticked in an edit: nobody may contact them now, so the request leaves the
        # queue with its notes; ticking the box again opens a new one.
        FollowUp.objects.filter(response__invitation_id=invitation.pk).delete()


def _had_asked_for_contact(invitation: Invitation) -> bool:
    """Did the answer before this submit ask for contact? The customer page has already
    read it (no query); any other caller is answered by the database."""
    if not Invitation.response.is_cached(invitation):
        return FollowUp.objects.filter(response__invitation_id=invitation.pk).exists()
    earlier = getattr(invitation, "response", None)
    return earlier is not None and earlier.contact_requested
