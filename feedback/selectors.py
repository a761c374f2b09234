"""Reads for pages."""

from feedback import tokens
from feedback.models import Invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, with what the customer page shows, or None."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("order__customer", "response")
        .prefetch_related("order__items")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )
