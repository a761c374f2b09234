"""Writes on the contact queue: assign, note, resolve, reopen. Each change leaves an entry
in the follow-up's log, with who and when."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import FollowUp, FollowUpNote, Invitation
from feedback.selectors.contacts import assignable_users
from feedback.services.rollups import rollups_tracked

Status = FollowUp.Status
NOTE_MAX_LENGTH = 2000


class FollowUpRefused(Exception):
    """A change staff asked for that cannot be made; the message says why."""


def _log(follow_up: FollowUp, author: AbstractBaseUser | None, text: str) -> FollowUpNote:
    return FollowUpNote.objects.create(follow_up=follow_up, author=author, text=text)


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def followup_assign(
    *, follow_up: FollowUp, assignee: AbstractBaseUser | None, by: AbstractBaseUser
) -> bool:
    """Give the follow-up to a staff member (or to nobody). Returns whether it changed."""
    if assignee is not None and not assignable_users().filter(pk=assignee.pk).exists():
        raise FollowUpRefused(
            _("%(name)s is not a member of staff.") % {"name": assignee.get_username()}
        )
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.assignee_id == (assignee.pk if assignee else None):
        return False
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    _log(locked, by, f"Assigned to {_name(assignee)}." if assignee else "Unassigned.")
    follow_up.assignee = assignee
    return True


def followup_add_note(*, follow_up: FollowUp, author: AbstractBaseUser, text: str) -> FollowUpNote:
    """Append a note; notes are never edited or removed."""
    text = text.strip()
    if not text:
        raise FollowUpRefused(_("Write a note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise FollowUpRefused(
            _("Keep the note to %(limit_value)d characters or fewer.")
            % {"limit_value": NOTE_MAX_LENGTH}
        )
    return _log(follow_up, author, text)


@transaction.atomic
def followup_resolve(
    *, follow_up: FollowUp, by: AbstractBaseUser, now: datetime | None = None
) -> bool:
    """open -> resolved; a second click (or a colleague's) changes nothing."""
    now = now or timezone.now()
    with rollups_tracked(Invitation.objects.filter(response__follow_up=follow_up.pk)):
        changed = FollowUp.objects.filter(pk=follow_up.pk, status=Status.OPEN).update(
            status=Status.RESOLVED, resolved_at=now
        )
    if changed:
        _log(follow_up, by, "Resolved.")
    return bool(changed)


@transaction.atomic
def followup_reopen(*, follow_up: FollowUp, by: AbstractBaseUser) -> bool:
    """resolved -> open: the time to resolve then counts from the original request again."""
    with rollups_tracked(Invitation.objects.filter(response__follow_up=follow_up.pk)):
        changed = FollowUp.objects.filter(pk=follow_up.pk, status=Status.RESOLVED).update(
            status=Status.OPEN, resolved_at=None
        )
    if changed:
        _log(follow_up, by, "Reopened.")
    return bool(changed)
