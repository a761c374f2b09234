"""A permanent refusal during the SMTP conversation (550 at RCPT, 554 after DATA) fails the
message at once and puts the address on the suppression list; the next order is not
invited. Sending checks the list again at send time."""

import pytest

from feedback import services
from feedback.models import DeliveryEvent, Invitation, Suppression
from feedback.services.suppressions import suppression_add
from feedback.tasks import invitations_sweep
from feedback.tokens import address_hash
from tests.conftest import WorkerProcess, wait_for
from tests.mailback import deliver
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]


def state_of(invitation: Invitation) -> str:
    invitation.refresh_from_db()
    return invitation.state


def suppression_of(email: str) -> Suppression | None:
    return Suppression.objects.filter(address_hash=address_hash(email)).first()


def test_a_550_at_rcpt_fails_at_once_suppresses_and_the_next_order_is_not_invited(
    smtp: SmtpSink, celery_worker_process: WorkerProcess
) -> None:
    smtp.refused.add("gone@example.net")
    gone = deliver("gone@example.net")
    fine = deliver("fine@example.org")

    invitations_sweep.delay()
    log = "\n".join(celery_worker_process.log[-30:])
    assert wait_for(lambda: state_of(gone) == "send_failed"), log
    assert wait_for(lambda: state_of(fine) == "sent"), log
    assert gone.send_attempts == 1  # never retried

    entry = suppression_of("gone@example.net")
    assert (entry.reason, entry.source, entry.customer) == ("hard_bounce", "smtp", gone.customer)
    event = DeliveryEvent.objects.get()
    assert (event.kind, event.source) == ("hard_bounce", "smtp")
    assert event.email_log.invitation == gone
    assert "550 5.1.1 no such user" in event.detail
    assert suppression_of("fine@example.org") is None

    following = deliver("gone@example.net", days_ago=9)
    assert (following.state, following.suppression_reason) == ("suppressed", "undeliverable")
    invitations_sweep.delay()
    assert not wait_for(lambda: smtp.count() > 1, timeout=5)
    assert [m["To"] for m in smtp.messages] == ["fine@example.org"]


def test_a_554_after_data_suppresses_too(smtp_settings: SmtpSink) -> None:
    smtp_settings.refused_data.add("spamtrap@example.net")
    invitation = deliver("spamtrap@example.net")
    result = services.invitation_send_batch(invitation_ids=[invitation.pk])
    assert result.failed == 1
    assert state_of(invitation) == "send_failed"
    assert suppression_of("spamtrap@example.net").source == "smtp"
    assert "554 5.7.1" in DeliveryEvent.objects.get().detail


def test_a_450_is_retried_and_suppresses_nothing(smtp_settings: SmtpSink) -> None:
    smtp_settings.deferred.add("busy@example.net")
    invitation = deliver("busy@example.net")
    services.invitation_send_batch(invitation_ids=[invitation.pk])
    assert state_of(invitation) == "scheduled"
    assert not Suppression.objects.exists()
    assert not DeliveryEvent.objects.exists()


def test_an_address_suppressed_after_scheduling_is_not_sent(smtp_settings: SmtpSink) -> None:
    invitation = deliver("late@example.net")
    assert invitation.state == "scheduled"
    suppression_add(email="late@example.net", reason="hard_bounce", source="dsn")
    services.invitation_send_batch(invitation_ids=[invitation.pk])
    invitation.refresh_from_db()
    assert (invitation.state, invitation.suppression_reason) == ("suppressed", "undeliverable")
    assert smtp_settings.count() == 0
