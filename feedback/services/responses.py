from django.db import transaction
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
) -> Response:
    """Store the customer's answer: one per invitation; a second submit edits it.

    A follow-up exists only when the customer asked to be contacted.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    now = timezone.now()
    fields = {
        "rating": rating,
        "comment": comment,
        "nps": nps,
        "contact_requested": contact_requested,
        "quote_allowed": quote_allowed,
    }
    response, created = Response.objects.get_or_create(
        invitation=invitation, defaults={"submitted_at": now, **fields}
    )
    if not created:
        Response.objects.filter(pk=response.pk).update(edited_at=now, **fields)
        response.refresh_from_db()
    Invitation.objects.filter(pk=invitation.pk, state__in=ANSWERABLE).update(
        state=State.RESPONDED, responded_at=now, claimed_until=None, updated_at=now
    )
    if contact_requested:
        FollowUp.objects.get_or_create(response=response)
    return response
