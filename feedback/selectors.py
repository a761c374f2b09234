"""Reads for pages."""

import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from feedback import tokens
from feedback.models import Invitation, InvitationPolicy


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, with its customer, order and answer, or None.

    One query; the order's items are read only by the pages that show them."""
    if not token or len(token) > 100:
        return None
    # token_hash is unique: no ORDER BY needed, unlike .first().
    found = Invitation.objects.select_related("customer", "order", "response").filter(
        token_hash=tokens.token_hash(token)
    )[:1]
    return next(iter(found), None)


_page_policy: tuple[float, InvitationPolicy] | None = None


def policy_for_pages() -> InvitationPolicy:
    """The live policy as customer pages show it: read at most every few seconds per process.

    Pages only display it (whether to ask the 0-10 question, which "later" days to offer);
    every decision (sending, snoozing) reads the live row itself. A change saved in this
    process shows at once, one saved in another within FEEDBACK_POLICY_CACHE_SECONDS.
    """
    global _page_policy
    now = time.monotonic()
    if _page_policy is None or now - _page_policy[0] >= settings.FEEDBACK_POLICY_CACHE_SECONDS:
        _page_policy = (now, InvitationPolicy.live())
    return _page_policy[1]


@receiver([post_save, post_delete], sender=InvitationPolicy)
def forget_page_policy(**_kwargs: object) -> None:
    global _page_policy
    _page_policy = None
