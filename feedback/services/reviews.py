"""Reviews: the answers customers allowed us to quote, moderated the same whatever the rating.

- An answer with "you may quote me" and a comment enters the moderation queue (pending).
- A moderator publishes it, or rejects it for one of RejectReason's reasons; neither service
  takes the rating into account, and each decision is logged with the rating it concerned.
- The customer's edit of the text or the rating sends it back to the queue; unticking
  "you may quote me", withdrawing consent from their link, or erasure withdraws it at once.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import states
from feedback.models import Response, Review, ReviewDecision

State = Review.State


class ModerationRefused(Exception):
    """The decision cannot apply (the review changed or was decided meanwhile); the
    message says why, in the moderator's language."""


def quotable(response: Response) -> bool:
    """May this answer be a public review? Its author allowed quoting and wrote something.
    (The rating is not a question here, nor anywhere in moderation.)"""
    return response.quote_allowed and bool(response.comment.strip())


def review_sync(*, response: Response, content_changed: bool, now: datetime) -> Review | None:
    """Bring the answer's review in line with the answer just stored or edited; run inside
    the answer's transaction (feedback.services.responses.response_submit).

    No consent or no text: the review is withdrawn at once. A new review, a changed text or
    rating, or consent given again: back to the queue, as a new revision."""
    review = Review.objects.select_for_update().filter(response=response).first()
    if not quotable(response):
        if review is not None:
            states.review_transition(review, to=State.WITHDRAWN)
            review.refresh_from_db()
        return review
    if review is None:
        return Review.objects.create(response=response, written_at=now)
    if content_changed or review.state == State.WITHDRAWN:
        states.review_transition(
            review,
            to=State.PENDING,
            revision=F("revision") + 1,
            written_at=now,
            published_at=None,
            decided_at=None,
            decided_by=None,
        )
        review.refresh_from_db()
    return review


@transaction.atomic
def review_publish(
    *, review: Review, moderator: AbstractBaseUser, revision: int, now: datetime | None = None
) -> ReviewDecision:
    """Publish the revision the moderator read."""
    return _decide(review, moderator, revision, ReviewDecision.Action.PUBLISHED, "", now)


@transaction.atomic
def review_reject(
    *,
    review: Review,
    moderator: AbstractBaseUser,
    revision: int,
    reason: str,
    now: datetime | None = None,
) -> ReviewDecision:
    """Reject the revision the moderator read, for one of the fixed reasons."""
    if reason not in Review.Reason.values:
        raise ModerationRefused(_("Choose one of the reasons to reject a review."))
    return _decide(review, moderator, revision, ReviewDecision.Action.REJECTED, reason, now)


def _decide(
    review: Review,
    moderator: AbstractBaseUser,
    revision: int,
    action: str,
    reason: str,
    now: datetime | None,
) -> ReviewDecision:
    now = now or timezone.now()
    published_at = now if action == ReviewDecision.Action.PUBLISHED else None
    moved = states.review_transition(
        Review.objects.filter(pk=review.pk, revision=revision),
        to=action,
        reason=reason,
        published_at=published_at,
        decided_at=now,
        decided_by=moderator,
    )
    if not moved:
        raise ModerationRefused(
            _("This review changed or was decided meanwhile: nothing was changed. Read it again.")
        )
    rating = Response.objects.values_list("rating", flat=True).get(review=review)
    return ReviewDecision.objects.create(
        review=review,
        action=action,
        reason=reason,
        rating=rating,
        decided_by=moderator,
        decided_at=now,
    )


@transaction.atomic
def review_withdraw_consent(*, response: Response) -> None:
    """The customer takes back "you may quote me" (from their link, at any time, also
    after the edit window): the answer no longer allows quoting and its review leaves
    every public page, widget and feed at once."""
    Response.objects.filter(pk=response.pk).update(quote_allowed=False)
    response.quote_allowed = False
    reviews_withdraw(Review.objects.filter(response=response))


def reviews_withdraw(reviews: QuerySet[Review]) -> int:
    """Take these reviews off the public pages (erasure, withdrawn consent)."""
    return states.review_transition(reviews, to=State.WITHDRAWN)
