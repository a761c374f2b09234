from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from feedback import services
from feedback.models import EmailLog, Invitation, InvitationPolicy
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

State = Invitation.State


def deliver(days_ago: int = 10, **customer: object) -> Invitation:
    order = OrderFactory(customer=CustomerFactory(**customer))
    delivered_at = timezone.now() - timedelta(days=days_ago)
    return services.order_mark_delivered(order=order, delivered_at=delivered_at)


def test_it_schedules_one_invitation_at_delivery_plus_delay() -> None:
    order = OrderFactory()
    delivered_at = timezone.now() - timedelta(days=1)
    invitation = services.order_mark_delivered(order=order, delivered_at=delivered_at)
    assert invitation.state == State.SCHEDULED
    assert invitation.due_at >= delivered_at + timedelta(days=7)
    assert invitation.due_at < delivered_at + timedelta(days=8, hours=1)


def test_it_ignores_a_second_delivery_event() -> None:
    order = OrderFactory()
    first = services.order_mark_delivered(order=order, delivered_at=timezone.now())
    later = timezone.now() + timedelta(days=3)
    second = services.order_mark_delivered(order=order, delivered_at=later)
    assert second.pk == first.pk
    assert second.due_at == first.due_at
    assert Invitation.objects.count() == 1


def test_it_stores_a_suppressed_invitation_with_its_reason() -> None:
    invitation = deliver(invitations_stopped_at=timezone.now())
    assert (invitation.state, invitation.suppression_reason) == (State.SUPPRESSED, "opted_out")


def test_it_claims_only_due_invitations_once() -> None:
    due = deliver(days_ago=10)
    not_due = deliver(days_ago=0)
    now = timezone.now()
    assert services.invitation_claim_due(now=now, batch_size=10) == [due.pk]
    # The lease keeps a second sweep off the claimed row.
    assert services.invitation_claim_due(now=now, batch_size=10) == []
    not_due.refresh_from_db()
    assert not_due.claimed_until is None


def test_it_sends_a_claimed_batch_once() -> None:
    invitation = deliver()
    ids = services.invitation_claim_due(now=timezone.now(), batch_size=10)
    result = services.invitation_send_batch(invitation_ids=ids)
    assert result.sent == 1
    assert len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.state == State.SENT
    log = EmailLog.objects.get()
    assert log.message_id == mail.outbox[0].extra_headers["Message-ID"]
    assert services.invitation_send_batch(invitation_ids=ids).sent == 0
    assert len(mail.outbox) == 1


def test_it_rechecks_the_rules_at_send_time() -> None:
    invitation = deliver()
    ids = services.invitation_claim_due(now=timezone.now(), batch_size=10)
    customer = invitation.customer
    customer.invitations_stopped_at = timezone.now()
    customer.save()
    result = services.invitation_send_batch(invitation_ids=ids)
    assert (result.sent, result.suppressed, len(mail.outbox)) == (0, 1, 0)
    invitation.refresh_from_db()
    assert invitation.suppression_reason == "opted_out"


def test_it_sweeps_in_batches_and_expires_old_sent_invitations(settings: object) -> None:
    settings.INVITATION_BATCH_SIZE = 2
    for _ in range(5):
        deliver()
    batches: list[list[int]] = []
    summary = services.invitations_sweep(send=batches.append)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert summary.claimed == 5
    Invitation.objects.filter(pk__in=batches[0]).update(
        state=State.SENT, expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert services.invitations_sweep(send=batches.append).expired == 2


def test_it_does_not_schedule_when_the_policy_is_off() -> None:
    InvitationPolicy.objects.update_or_create(pk=1, defaults={"enabled": False})
    assert deliver().suppression_reason == "policy_off"
