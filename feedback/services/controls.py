"""What a customer decides: ask me later (once), no thanks, stop all invitations."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import states
from feedback.models import Customer, Invitation, InvitationPolicy, WebhookEventType
from feedback.rules import PolicyRules, into_window
from feedback.services.rollups import rollups_tracked
from feedback.services.webhooks import customer_unsubscribed_data, webhook_emit

State = Invitation.State


class ControlRefused(Exception):
    """The customer asked for something the rules do not allow; the message says why."""


@transaction.atomic
def invitation_snooze(
    *, invitation: Invitation, days: int, now: datetime | None = None
) -> Invitation:
    """Ask me later: once per invitation, on a day from the policy's choices; exactly one
    "later" email then goes out with the same link (see invitations_wake_snoozed).

    The link stays valid for the policy's validity after that day."""
    now = now or timezone.now()
    with rollups_tracked(Invitation.objects.filter(pk=invitation.pk)):
        return _snooze(invitation.pk, days, now)


def _snooze(invitation_id: int, days: int, now: datetime) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update().select_related("customer").get(pk=invitation_id)
    )
    policy = InvitationPolicy.live()
    if invitation.snooze_count:
        raise ControlRefused(_("You already asked us to ask later. We will not ask again."))
    if invitation.state != State.SENT or states.is_expired(invitation, now):
        raise ControlRefused(_("This invitation can no longer be postponed."))
    if days not in policy.snooze_choices:
        raise ControlRefused(_("Please choose one of the offered days."))
    rules = PolicyRules.from_policy(policy)
    due_at = into_window(rules, now + timedelta(days=days), invitation.customer.time_zone)
    states.transition(
        invitation,
        to=State.SNOOZED,
        snooze_count=1,
        snoozed_until=due_at,
        due_at=due_at,
        expires_at=due_at + timedelta(days=rules.invitation_valid_days),
        claimed_until=None,
        now=now,
    )
    return invitation


def invitation_decline(*, invitation: Invitation, now: datetime | None = None) -> bool:
    """No thanks: this order is never asked about again. False if the invitation was no
    longer open (answered, expired or declined already): nothing changes then."""
    now = now or timezone.now()
    if states.is_expired(invitation, now):
        return False
    with rollups_tracked(Invitation.objects.filter(pk=invitation.pk)):
        moved = states.transition(
            invitation,
            to=State.DECLINED,
            declined_at=now,
            claimed_until=None,
            now=now,
        )
    return bool(moved)


@transaction.atomic
def customer_stop_invitations(*, customer: Customer, now: datetime | None = None) -> int:
    """Stop all invitations: from now on, and for every invitation not yet sent.

    Returns how many waiting invitations were suppressed.
    """
    now = now or timezone.now()
    # The customer's row first, then their invitations: the order the sender locks in.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    # Their sent invitations now count as "stopped" (the dashboard's stops).
    with rollups_tracked(Invitation.objects.filter(customer=customer)):
        stopped = Customer.objects.filter(
            pk=customer.pk, invitations_stopped_at__isnull=True
        ).update(invitations_stopped_at=now, updated_at=now)
        if stopped:
            webhook_emit(
                type=WebhookEventType.CUSTOMER_UNSUBSCRIBED,
                data=customer_unsubscribed_data(customer, at=now),
                customer=customer,
                now=now,
            )
        return states.transition(
            Invitation.objects.filter(customer=customer),
            to=State.SUPPRESSED,
            source=states.WAITING,
            reason=Invitation.Reason.OPTED_OUT,
            claimed_until=None,
            now=now,
        )


@transaction.atomic
def customer_resume_invitations(*, customer: Customer, now: datetime | None = None) -> None:
    """Undo "stop all": future orders may be invited again; suppressed ones stay so."""
    now = now or timezone.now()
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    with rollups_tracked(Invitation.objects.filter(customer=customer)):
        Customer.objects.filter(pk=customer.pk).update(invitations_stopped_at=None, updated_at=now)
