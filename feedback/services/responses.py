"""The customer's answer: one per invitation; a second submit edits it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import states
from feedback.models import FollowUp, Invitation, Response
from feedback.services.rollups import rollups_tracked

State = Invitation.State


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
    follow-up exists only while the customer asks to be contacted. An edit made while the
    0-10 question is not asked (`nps_asked=False`) keeps the earlier 0-10 answer.
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
    answer = Response.objects.create(invitation=invitation, submitted_at=now, **fields)
    states.transition(invitation, to=State.RESPONDED, responded_at=now, claimed_until=None, now=now)
    if contact_requested:
        FollowUp.objects.create(response=answer)
    return answer


def _edit(invitation: Invitation, fields: dict, now: datetime) -> Response:
    answer = Response.objects.get(invitation=invitation)
    if not answer_editable(answer.submitted_at, now):
        raise AnswerRefused(_("This answer can no longer be changed."))
    for name, value in fields.items():
        setattr(answer, name, value)
    answer.edited_at = now
    answer.save()
    if answer.contact_requested:
        FollowUp.objects.get_or_create(response=answer)
    else:
        # Unticked in an edit: nobody may contact them now, so the request leaves the
        # queue with its notes; ticking the box again opens a new one.
        FollowUp.objects.filter(response=answer).delete()
    return answer


def answer_editable(submitted_at: datetime | None, now: datetime) -> bool:
    """May the customer still change an answer submitted then? (None: not answered yet.)"""
    editable_since = now - timedelta(days=settings.RESPONSE_EDITABLE_DAYS)
    return submitted_at is None or submitted_at > editable_since
