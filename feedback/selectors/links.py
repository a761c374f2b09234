"""Reads for the customer's pages: the invitation a link points to."""

from feedback import states, tokens
from feedback.models import Invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, with its customer, order and answer, or None.

    Only a link that went out by email opens a page: one whose invitation is in a linked
    state, or scheduled again for the "later" email the customer asked for."""
    token_hash = tokens.lookup_hash(token)
    if token_hash is None:
        return None
    invitation = (
        Invitation.objects.select_related("customer", "order", "response")
        .filter(token_hash=token_hash)
        .first()
    )
    if invitation is None:
        return None
    if invitation.state in states.LINKED or (
        invitation.state == states.State.SCHEDULED and invitation.snooze_count
    ):
        return invitation
    return None
