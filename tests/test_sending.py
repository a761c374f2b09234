"""Sending over a real SMTP server: refusals, ambiguity, stale claims, caps and cooldowns."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from feedback import services
from feedback.models import Customer, EmailLog, Invitation, InvitationPolicy
from tests.conftest import free_port
from tests.factories import CustomerFactory, OrderFactory
from tests.silent_server import SilentServer
from tests.smtp import SmtpSink

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

State = Invitation.State


def deliver(customer: Customer | None = None) -> Invitation:
    order = OrderFactory(customer=customer or CustomerFactory())
    return services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )


def sweep() -> services.SweepSummary:
    return services.invitations_sweep(send=services.send_here)


def test_it_sends_a_batch_over_one_smtp_connection(smtp_settings: SmtpSink) -> None:
    invitations = [deliver() for _ in range(5)]
    summary = sweep()
    assert (summary.results.sent, smtp_settings.count(), smtp_settings.connections) == (5, 5, 1)
    for invitation in invitations:
        invitation.refresh_from_db()
        assert invitation.state == State.SENT
        [log] = invitation.emails.all()
        assert log.outcome == EmailLog.Outcome.SENT
        assert smtp_settings.to(invitation.customer.email)[0]["Message-ID"] == log.message_id


def test_it_retries_a_message_refused_for_now_with_backoff_then_gives_up(
    smtp_settings: SmtpSink,
) -> None:
    invitation = deliver(CustomerFactory(email="busy@example.com"))
    smtp_settings.deferred.add("busy@example.com")  # 450 at RCPT, every time
    before = timezone.now()
    assert sweep().results.retrying == 1
    invitation.refresh_from_db()
    assert invitation.state == State.SCHEDULED
    assert invitation.due_at >= before + timedelta(seconds=60)
    assert invitation.customer.last_invited_at is None  # nothing went out: no cooldown
    for _ in range(3):
        Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())
        sweep()
    invitation.refresh_from_db()
    assert invitation.state == State.SEND_FAILED
    assert invitation.send_attempts == 4
    assert list(invitation.emails.values_list("outcome", flat=True)) == ["failed"] * 4
    assert smtp_settings.count() == 0


def test_a_permanent_refusal_fails_at_once_with_the_servers_reply(
    smtp_settings: SmtpSink,
) -> None:
    invitation = deliver(CustomerFactory(email="gone@example.com"))
    others = [deliver() for _ in range(2)]
    smtp_settings.refused.add("gone@example.com")  # 550 at RCPT
    results = sweep().results
    assert (results.failed, results.retrying, results.sent) == (1, 0, 2)
    invitation.refresh_from_db()
    assert (invitation.state, invitation.send_attempts) == (State.SEND_FAILED, 1)
    assert "550" in invitation.last_error and "no such user" in invitation.last_error
    assert invitation.emails.get().outcome == EmailLog.Outcome.FAILED
    assert invitation.customer.last_invited_at is None
    sweep()  # never tried again
    invitation.refresh_from_db()
    assert invitation.send_attempts == 1
    assert smtp_settings.count() == 2
    assert all(smtp_settings.to(other.customer.email) for other in others)


@pytest.mark.parametrize("server", ["refused", "silent"])
def test_an_unreachable_mail_server_costs_no_invitation(
    settings: object, smtp_settings: SmtpSink, server: str
) -> None:
    settings.EMAIL_TIMEOUT = 1
    invitations = [deliver() for _ in range(5)]
    with SilentServer() as silent:
        # Nothing listens on a free port; the silent server accepts and never greets.
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = silent.port if server == "silent" else free_port()
        started = time.monotonic()
        summary = sweep()
        took = time.monotonic() - started
    # The batch stopped at the first failure (one timeout, not five) and gave its claims back.
    assert took < 3
    assert (summary.results.unknown, summary.results.sent) == (0, 0)
    assert summary.results.given_back == 5
    for invitation in invitations:
        invitation.refresh_from_db()
        assert (invitation.state, invitation.send_attempts) == (State.SCHEDULED, 0)
        assert invitation.claimed_until is None
        assert not invitation.emails.exists()
    # The server is back: the next sweep sends all five.
    settings.EMAIL_PORT = smtp_settings.port
    assert sweep().results.sent == 5
    assert smtp_settings.count() == 5


def test_it_never_resends_after_an_ambiguous_timeout(
    settings: object, smtp_settings: SmtpSink
) -> None:
    settings.EMAIL_TIMEOUT = 1
    smtp_settings.delay = 2.5  # the server has the data but answers too late
    invitation = deliver()
    assert sweep().results.unknown == 1
    invitation.refresh_from_db()
    assert invitation.state == State.SEND_UNKNOWN
    smtp_settings.delay = 0
    sweep()
    assert smtp_settings.count() == 1
    assert invitation.emails.get().outcome == EmailLog.Outcome.UNKNOWN


def test_it_turns_a_claim_left_sending_by_a_dead_process_into_send_unknown(
    smtp_settings: SmtpSink,
) -> None:
    invitation = deliver()
    long_ago = timezone.now() - timedelta(hours=1)
    Invitation.objects.filter(pk=invitation.pk).update(
        state=State.SENDING, sending_started_at=long_ago
    )
    assert sweep().stale == 1
    invitation.refresh_from_db()
    assert invitation.state == State.SEND_UNKNOWN
    assert smtp_settings.count() == 0


def test_it_sends_one_invitation_per_customer_per_cooldown(smtp_settings: SmtpSink) -> None:
    customer = CustomerFactory()
    invitations = [deliver(customer) for _ in range(3)]
    summary = sweep()
    assert (summary.results.sent, summary.results.suppressed) == (1, 2)
    assert len(smtp_settings.to(customer.email)) == 1
    reasons = sorted(Invitation.objects.values_list("suppression_reason", flat=True))
    assert reasons == ["", "cooldown", "cooldown"]
    assert len(invitations) == 3


def test_it_holds_the_daily_cap(smtp_settings: SmtpSink) -> None:
    InvitationPolicy.objects.filter(pk=1).update(daily_send_cap=2)
    for _ in range(5):
        deliver()
    summary = sweep()
    assert (summary.results.sent, summary.results.suppressed) == (2, 3)
    assert smtp_settings.count() == 2
    assert Invitation.objects.filter(suppression_reason="daily_cap").count() == 3


def test_it_sends_nothing_to_a_customer_who_stopped_before_the_sweep(
    smtp_settings: SmtpSink,
) -> None:
    invitation = deliver()
    services.customer_stop_invitations(customer=invitation.customer)
    assert sweep().claimed == 0
    invitation.refresh_from_db()
    assert (invitation.state, invitation.suppression_reason) == (State.SUPPRESSED, "opted_out")
    assert smtp_settings.count() == 0


def test_it_sends_nothing_to_a_customer_who_stopped_after_the_claim(
    smtp_settings: SmtpSink,
) -> None:
    invitation = deliver()
    ids = services.invitation_claim_due(now=timezone.now(), batch_size=10)
    Customer.objects.filter(pk=invitation.customer_id).update(invitations_stopped_at=timezone.now())
    assert services.invitation_send_batch(invitation_ids=ids).suppressed == 1
    assert smtp_settings.count() == 0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_it_sends_a_claimed_invitation_that_another_sweep_holds_for_a_moment(
    smtp_settings: SmtpSink,
) -> None:
    # Another sweep's claim query can keep a lock on a row it saw us claim. The batch
    # waits for it rather than leaving the customer's invitation until the lease runs out.
    invitation = deliver()
    ids = services.invitation_claim_due(now=timezone.now(), batch_size=10)
    db = connection.settings_dict
    locked, release = threading.Event(), threading.Event()

    def other_sweep() -> None:
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        ) as other:
            other.execute(
                "SELECT id FROM feedback_invitation WHERE id = %s FOR UPDATE", [invitation.pk]
            )
            locked.set()
            release.wait(10)
            other.commit()

    holder = threading.Thread(target=other_sweep)
    holder.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    result = services.invitation_send_batch(invitation_ids=ids)
    holder.join(10)
    invitation.refresh_from_db()
    assert (result.sent, result.skipped, invitation.state) == (1, 0, State.SENT)
    assert smtp_settings.to(invitation.customer.email)


def test_changing_the_policy_never_resends(smtp_settings: SmtpSink) -> None:
    for _ in range(3):
        deliver()
    sweep()
    policy = InvitationPolicy.live()
    policy.delay_after_delivery_days = 0
    policy.customer_cooldown_days = 0
    services.policy_save(policy=policy, changed_by=None)
    sweep()
    assert smtp_settings.count() == 3
    assert EmailLog.objects.count() == 3


def test_it_waits_for_the_window_when_sending_late(smtp_settings: SmtpSink) -> None:
    from datetime import time

    now_local = timezone.now().astimezone(timezone.get_fixed_timezone(0))
    # A one-hour window that is not now, in UTC.
    start = time((now_local.hour + 3) % 24, 0)
    end = time(start.hour, 59)
    InvitationPolicy.objects.filter(pk=1).update(send_window_start=start, send_window_end=end)
    invitation = deliver(CustomerFactory(time_zone="UTC"))
    Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())
    assert sweep().results.deferred == 1
    invitation.refresh_from_db()
    assert invitation.state == State.SCHEDULED
    assert invitation.due_at.astimezone(timezone.get_fixed_timezone(0)).time() == start
    assert smtp_settings.count() == 0
