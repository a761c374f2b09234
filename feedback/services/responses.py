"""The customer's answer: one per invitation; a second submit edits it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import states
from feedback.models import FollowUp, Invitation, Response, WebhookEventType
from feedback.services.contacts import followup_open
from feedback.services.reviews import review_sync
from feedback.services.rollups import rollups_tracked
from feedback.services.topics import topic_counts_change
from feedback.services.webhooks import response_data, webhook_emit, webhook_emit_contact
from feedback.topics import language_of

State = Invitation.State
EventType = WebhookEventType


class AnswerRefused(Exception):
    """The link takes no answer now (declined, expired, or past the edit window); the
    message says why, in the customer's language."""


@transaction.atomic
def response_submit(
    *,
    invitation: Invitation,
    rating: int,
    comment: str = "",
    nps: int | None = None,
    contact_requested: bool = False,
    quote_allowed: bool = False,
    nps_asked: bool = True,
    now: datetime | None = None,
) -> Response:
    """Store the customer's answer, or change it if they answered before.

    The invitation's row lock serialises whatever else happens to it at the same moment:
    a second tab's submit (it then edits the first one's answer), a "no thanks" (whichever
    commits first wins; the other is refused or changes nothing), the sweep's expiry. A
    follow-up exists only while the customer asks to be contacted; a review (for the public
    pages) only while they allow quoting, and a changed text or rating goes back to
    moderation. An edit made while the 0-10 question is not asked (`nps_asked=False`)
    keeps the earlier 0-10 answer. The counts of what comments talk about change in the
    same transaction.
    """
    now = now or timezone.now()
    with rollups_tracked(Invitation.objects.filter(pk=invitation.pk)):
        return _answer(
            invitation.pk, rating, comment, nps, contact_requested, quote_allowed, nps_asked, now
        )


def _answer(
    invitation_id: int,
    rating: int,
    comment: str,
    nps: int | None,
    contact_requested: bool,
    quote_allowed: bool,
    nps_asked: bool,
    now: datetime,
) -> Response:
    invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
    fields = {
        "rating": rating,
        "comment": comment,
        "nps": nps,
        "contact_requested": contact_requested,
        "quote_allowed": quote_allowed,
    }
    if invitation.state == State.RESPONDED:
        if not nps_asked:
            del fields["nps"]
        return _edit(invitation, fields, now)
    if invitation.state not in states.ANSWERABLE or states.is_expired(invitation, now):
        raise AnswerRefused(_("This invitation no longer takes answers."))
    language = language_of(invitation.customer.locale)
    answer = Response.objects.create(
        invitation=invitation, submitted_at=now, language=language, **fields
    )
    topic_counts_change(response=answer, old_comment="", new_comment=comment)
    states.transition(invitation, to=State.RESPONDED, responded_at=now, claimed_until=None, now=now)
    follow_up = None
    if contact_requested:
        follow_up, _created = followup_open(response=answer, now=now)
    review_sync(response=answer, content_changed=True, now=now)
    _emit(answer, EventType.RESPONSE_SUBMITTED, follow_up, now)
    return answer


def _edit(invitation: Invitation, fields: dict, now: datetime) -> Response:
    answer = Response.objects.get(invitation=invitation)
    if not answer_editable(answer.submitted_at, now):
        raise AnswerRefused(_("This answer can no longer be changed."))
    old_comment = answer.comment
    content_changed = (answer.rating, answer.comment) != (fields["rating"], fields["comment"])
    for name, value in fields.items():
        setattr(answer, name, value)
    answer.edited_at = now
    answer.save()
    follow_up = None
    topic_counts_change(response=answer, old_comment=old_comment, new_comment=answer.comment)
    review_sync(response=answer, content_changed=content_changed, now=now)
    if answer.contact_requested:
        follow_up, created = followup_open(response=answer, now=now)
        follow_up = follow_up if created else None
    else:
        # Unticked in an edit: nobody may contact them now, so the request leaves the
        # queue with its notes; ticking the box again opens a new one.
        FollowUp.objects.filter(response=answer).delete()
    _emit(answer, EventType.RESPONSE_UPDATED, follow_up, now)
    return answer


def _emit(answer: Response, type: str, new_follow_up: FollowUp | None, now: datetime) -> None:
    """Tell the webhook endpoints: the answer, and a new request to be contacted."""
    customer = answer.invitation.customer
    webhook_emit(type=type, data=response_data(answer), customer=customer, now=now)
    if new_follow_up is not None:
        webhook_emit_contact(
            type=EventType.CONTACT_REQUESTED, follow_up=new_follow_up, requested_at=now, now=now
        )


def answer_editable(submitted_at: datetime | None, now: datetime) -> bool:
    """May the customer still change an answer submitted then? (None: not answered yet.)"""
    editable_since = now - timedelta(days=settings.RESPONSE_EDITABLE_DAYS)
    return submitted_at is None or submitted_at > editable_since
