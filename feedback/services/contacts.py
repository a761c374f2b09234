"""Writes on the contact queue: open a request, tell the team, assign, note, reply,
resolve, reopen. Each change leaves an entry in the follow-up's log, with who and when."""

import logging
import smtplib
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feedback import emails
from feedback.business_hours import response_due_at
from feedback.models import (
    ContactMessage,
    EmailLog,
    FollowUp,
    FollowUpNote,
    Invitation,
    InvitationPolicy,
    Response,
    WebhookEventType,
)
from feedback.rules import customer_zone
from feedback.selectors.contacts import assignable_users
from feedback.services.notify import team_notify
from feedback.services.rollups import rollups_tracked
from feedback.services.webhooks import webhook_emit_contact

logger = logging.getLogger(__name__)

Status = FollowUp.Status
NOTE_MAX_LENGTH = 2000
REPLY_MAX_LENGTH = 5000


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
    *, follow_up: FollowUp, by: AbstractBaseUser, note: str = "", now: datetime | None = None
) -> bool:
    """open -> resolved, with an optional closing note in the same step; a second click (or
    a colleague's) changes nothing. A request resolved before any reply (e.g. after a phone
    call) counts as answered then."""
    now = now or timezone.now()
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise FollowUpRefused(
            _("Keep the note to %(limit_value)d characters or fewer.")
            % {"limit_value": NOTE_MAX_LENGTH}
        )
    with rollups_tracked(Invitation.objects.filter(response__follow_up=follow_up.pk)):
        changed = FollowUp.objects.filter(pk=follow_up.pk, status=Status.OPEN).update(
            status=Status.RESOLVED,
            resolved_at=now,
            first_response_at=Coalesce("first_response_at", now),
        )
    if changed:
        if note:
            _log(follow_up, by, note)
        _log(follow_up, by, "Resolved.")
        webhook_emit_contact(
            type=WebhookEventType.CONTACT_RESOLVED, follow_up=follow_up, resolved_at=now, now=now
        )
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


# Opening a request, and telling the team ----------------------------------------------


def followup_open(*, response: Response, now: datetime | None = None) -> tuple[FollowUp, bool]:
    """The follow-up of an answer whose customer asked to be contacted, due by the policy's
    first-response target, and whether it is new; the team is told once (on commit). Call
    inside the answer's transaction; an answer that has its follow-up keeps it."""
    existing = FollowUp.objects.filter(response=response).first()
    if existing is not None:
        return existing, False
    now = now or timezone.now()
    due = response_due_at(now, InvitationPolicy.live(), customer_zone(settings.SHOP_TIME_ZONE))
    follow_up = FollowUp.objects.create(response=response, response_due_at=due)
    if settings.TEAM_NOTIFY != "daily":
        # Robust: a failure to tell the team must not turn the customer's answer into an
        # error page; it is logged, and the answer is kept.
        transaction.on_commit(lambda: followup_notify_team(follow_up=follow_up), robust=True)
    return follow_up, True


def _contact_link(follow_up: FollowUp) -> str:
    return emails.absolute(reverse("feedback:contact", args=[follow_up.pk]))


def followup_notify_team(*, follow_up: FollowUp) -> int:
    """One message to the team about this request, however often it is called."""
    response = Response.objects.select_related("invitation__order__customer").get(
        pk=follow_up.response_id
    )
    order = response.invitation.order
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Contact request: %(name)s, order %(order)s") % {
            "name": order.customer.name or order.customer.email or _("(no name)"),
            "order": order.external_id,
        }
        text = _("Rated %(rating)s/5. Comment: %(comment)s") % {
            "rating": response.rating,
            "comment": response.comment or "—",
        }
    return team_notify(
        subject=subject, text=text, link=_contact_link(follow_up), key=f"contact:{follow_up.pk}"
    )


def team_digest_send(*, now: datetime | None = None) -> int:
    """TEAM_NOTIFY=daily: one message listing yesterday's contact requests (the shop's
    calendar day), sent once whenever this runs; nothing when there were none."""
    if settings.TEAM_NOTIFY != "daily":
        return 0
    zone = customer_zone(settings.SHOP_TIME_ZONE)
    today = (now or timezone.now()).astimezone(zone).date()
    day = today - timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    requests = list(
        FollowUp.objects.filter(
            response__contact_requested=True, created_at__gte=start, created_at__lt=end
        )
        .select_related("response__invitation__order__customer")
        .order_by("created_at", "pk")
    )
    if not requests:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Contact requests on %(day)s: %(count)d") % {
            "day": day.isoformat(),
            "count": len(requests),
        }
        lines = [
            f"- {f.response.invitation.order.customer.name or _('(no name)')}, "
            f"{f.response.invitation.order.external_id}, {f.response.rating}/5: "
            f"{_contact_link(f)}"
            for f in requests
        ]
    link = emails.absolute(reverse("feedback:contacts"))
    return team_notify(subject=subject, text="\n".join(lines), link=link, key=f"digest:{day}")


# Replies by email ----------------------------------------------------------------------


@transaction.atomic
def contact_reply_send(
    *, follow_up: FollowUp, author: AbstractBaseUser, text: str, now: datetime | None = None
) -> ContactMessage:
    """Keep a staff reply in the thread and queue it for sending (on commit). Only to a
    customer who asked to be contacted and has an address; the text is never lost: if it
    cannot be sent, it stays in the thread as "not sent", to send again."""
    text = text.strip()
    if not text:
        raise FollowUpRefused(_("Write your reply first."))
    if len(text) > REPLY_MAX_LENGTH:
        raise FollowUpRefused(
            _("Keep the reply to %(limit_value)d characters or fewer.")
            % {"limit_value": REPLY_MAX_LENGTH}
        )
    response = follow_up.response
    if not response.contact_requested:
        raise FollowUpRefused(_("This customer did not ask to be contacted: no reply is sent."))
    if not response.invitation.customer.email:
        raise FollowUpRefused(_("This customer has no email address to reply to."))
    message = ContactMessage.objects.create(
        follow_up=follow_up,
        direction=ContactMessage.Direction.OUT,
        status=ContactMessage.Status.SENDING,
        author=author,
        text=text,
        created_at=now or timezone.now(),
    )
    _queue(message)
    return message


@transaction.atomic
def contact_reply_retry(*, message: ContactMessage) -> bool:
    """A reply marked "not sent" goes back to the queue; False when it was not failed."""
    changed = ContactMessage.objects.filter(
        pk=message.pk, direction=ContactMessage.Direction.OUT, status=ContactMessage.Status.FAILED
    ).update(status=ContactMessage.Status.SENDING, error="")
    if changed:
        _queue(message)
    return bool(changed)


def _queue(message: ContactMessage) -> None:
    from feedback.tasks import enqueue_contact_reply

    transaction.on_commit(lambda: enqueue_contact_reply(message.pk))


class ReplyNotSentYet(Exception):
    """The mail server did not take the reply for now; the task tries again."""


def contact_reply_deliver(*, message_id: int, now: datetime | None = None) -> str:
    """Hand one queued reply to the mail server, recorded in EmailLog (kind "reply")
    before the SMTP talk and its outcome after. Returns "sent", "failed" (refused for good)
    or "skipped"; raises ReplyNotSentYet for a refusal for now or an unreachable server."""
    message = (
        ContactMessage.objects.select_related("follow_up__response__invitation__order__customer")
        .filter(pk=message_id, status=ContactMessage.Status.SENDING)
        .first()
    )
    if message is None:
        return "skipped"
    invitation = message.follow_up.response.invitation
    log = EmailLog.objects.create(
        invitation=invitation,
        kind=EmailLog.Kind.REPLY,
        message_id=make_msgid(domain=urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"),
        to_email=invitation.order.customer.email,
    )
    ContactMessage.objects.filter(pk=message.pk).update(email_log=log)
    try:
        emails.reply_message(message, message_id=log.message_id).send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply in exc.recipients.values()]
        return _reply_refused(message, log, exc, for_good=all(code >= 500 for code in codes))
    except smtplib.SMTPDataError as exc:
        return _reply_refused(message, log, exc, for_good=exc.smtp_code >= 500)
    except (OSError, smtplib.SMTPException) as exc:
        return _reply_refused(message, log, exc, for_good=False)
    return _reply_sent(message, log, now or timezone.now())


@transaction.atomic
def _reply_sent(message: ContactMessage, log: EmailLog, now: datetime) -> str:
    EmailLog.objects.filter(pk=log.pk).update(outcome=EmailLog.Outcome.SENT)
    ContactMessage.objects.filter(pk=message.pk).update(
        status=ContactMessage.Status.SENT, sent_at=now, error=""
    )
    FollowUp.objects.filter(pk=message.follow_up_id, first_response_at__isnull=True).update(
        first_response_at=now
    )
    webhook_emit_contact(
        type=WebhookEventType.CONTACT_REPLIED,
        follow_up=message.follow_up,
        direction="to_customer",
        replied_at=now,
        now=now,
    )
    return "sent"


def _reply_refused(
    message: ContactMessage, log: EmailLog, exc: Exception, *, for_good: bool
) -> str:
    error = repr(exc)[:2000]
    EmailLog.objects.filter(pk=log.pk).update(outcome=EmailLog.Outcome.FAILED, error=error)
    if not for_good:
        raise ReplyNotSentYet(error) from exc
    contact_reply_give_up(message_id=message.pk, error=error)
    return "failed"


def contact_reply_give_up(*, message_id: int, error: str) -> bool:
    """sending -> failed: staff see "not sent" with the reason, and may send it again."""
    return bool(
        ContactMessage.objects.filter(
            Q(pk=message_id), Q(status=ContactMessage.Status.SENDING)
        ).update(status=ContactMessage.Status.FAILED, error=error[:2000])
    )
