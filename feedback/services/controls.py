"""What a customer decides: ask me later (once), no thanks, stop all invitations."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Customer, Invitation, InvitationPolicy
from feedback.policy import PolicyRules, into_window

State = Invitation.State

# An invitation the customer can still act on from their link.
OPEN_STATES = (State.SENT, State.SNOOZED, State.SCHEDULED)


class ControlRefused(Exception):
    """The customer asked for something the rules do not allow; the message says why."""


@transaction.atomic
def invitation_snooze(
    *, invitation: Invitation, days: int, now: datetime | None = None
) -> Invitation:
    """Ask me later: once per invitation, on a day from the policy's choices; exactly one
    "later" email then goes out with the same link (see invitations_wake_snoozed)."""
    invitation = (
        Invitation.objects.select_for_update().select_related("customer").get(pk=invitation.pk)
    )
    policy = InvitationPolicy.live()
    if invitation.snooze_count:
        raise ControlRefused(_("You already asked us to ask later. We will not ask again."))
    if invitation.state != State.SENT:
        raise ControlRefused(_("This invitation can no longer be postponed."))
    if days not in policy.snooze_choices:
        raise ControlRefused(_("Please choose one of the offered days."))
    now = now or timezone.now()
    rules = PolicyRules.from_policy(policy)
    due_at = into_window(rules, now + timedelta(days=days), invitation.customer.time_zone)
    Invitation.objects.filter(pk=invitation.pk, state=State.SENT).update(
        state=State.SNOOZED,
        snooze_count=1,
        snoozed_until=due_at,
        due_at=due_at,
        claimed_until=None,
        updated_at=now,
    )
    invitation.refresh_from_db()
    return invitation


@transaction.atomic
def invitation_decline(*, invitation: Invitation, now: datetime | None = None) -> bool:
    """No thanks: this order is never asked about again."""
    now = now or timezone.now()
    changed = Invitation.objects.filter(pk=invitation.pk, state__in=OPEN_STATES).update(
        state=State.DECLINED, declined_at=now, claimed_until=None, updated_at=now
    )
    return bool(changed)


@transaction.atomic
def customer_stop_invitations(*, customer: Customer, now: datetime | None = None) -> int:
    """Stop all invitations: from now on, and for every invitation not yet sent.

    Returns how many scheduled invitations were suppressed.
    """
    now = now or timezone.now()
    Customer.objects.filter(pk=customer.pk, invitations_stopped_at__isnull=True).update(
        invitations_stopped_at=now, updated_at=now
    )
    waiting = Invitation.objects.filter(
        customer=customer, state__in=[State.SCHEDULED, State.SNOOZED]
    )
    return waiting.update(
        state=State.SUPPRESSED, suppression_reason="opted_out", claimed_until=None, updated_at=now
    )


@transaction.atomic
def customer_resume_invitations(*, customer: Customer, now: datetime | None = None) -> None:
    """Undo "stop all": future orders may be invited again; suppressed ones stay so."""
    Customer.objects.filter(pk=customer.pk).update(
        invitations_stopped_at=None, updated_at=now or timezone.now()
    )
