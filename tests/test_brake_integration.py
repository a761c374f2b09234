"""The brake, real all the way: a Celery worker process sends over SMTP while complaints
come back; sending pauses mid-run and resumes, once each, after Ops say why."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import DeliveryEvent, EmailLog, Invitation, InvitationPolicy, SendingPause
from feedback.tasks import invitations_sweep
from tests.conftest import WorkerProcess, wait_for
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink
from tests.staff import member

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]

COUNT = 12


def complain_about(messages: list) -> None:
    """Each recipient reports the message as spam, as a feedback loop's report is recorded."""
    for message in messages:
        log = EmailLog.objects.get(message_id=message["Message-ID"])
        DeliveryEvent.objects.create(
            kind=DeliveryEvent.Kind.COMPLAINT,
            source=DeliveryEvent.Source.COMPLAINT,
            email_log=log,
            recipient_domain="example.com",
            occurred_at=timezone.now(),
        )


def test_a_run_of_complaints_pauses_the_worker_midway_and_resume_sends_the_rest_once(
    smtp: SmtpSink, celery_worker_process: WorkerProcess, client: Client
) -> None:
    log = celery_worker_process.log
    InvitationPolicy.objects.filter(pk=1).update(brake_min_messages=3, brake_complaint_percent=10)
    invitations = [
        services.order_mark_delivered(
            order=OrderFactory(customer=CustomerFactory(email=f"run{n}@example.com")),
            delivered_at=timezone.now() - timedelta(days=10),
        )
        for n in range(COUNT)
    ]
    smtp.delay = 0.3  # a server that takes its time: complaints arrive while it sends

    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() >= 3), "\n".join(log[-30:])
    complain_about(list(smtp.messages[:3]))

    assert wait_for(SendingPause.objects.exists), "\n".join(log[-30:])
    # The batch stopped half-way: what reached the server stays, nothing more follows.
    assert not wait_for(lambda: smtp.count() >= COUNT, timeout=5)
    stopped_at = smtp.count()
    assert 3 <= stopped_at < COUNT
    invitations_sweep.delay()
    assert not wait_for(lambda: smtp.count() > stopped_at, timeout=5)
    waiting = Invitation.objects.filter(state=Invitation.State.SCHEDULED)
    assert waiting.count() == COUNT - stopped_at
    assert client.get("/healthz").json()["sending"] == "paused"

    client.force_login(member("alice", "Ops"))
    reason = "The complaints came from a test list; it is removed."
    response = client.post("/staff/sending/resume/", {"reason": reason})
    assert response.status_code == 302
    assert SendingPause.objects.get().resume_reason == reason

    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() >= COUNT), "\n".join(log[-30:])
    invitations_sweep.delay()
    assert not wait_for(lambda: smtp.count() > COUNT, timeout=5)
    for invitation in invitations:
        assert len(smtp.to(invitation.customer.email)) == 1
    assert wait_for(lambda: Invitation.objects.filter(state=Invitation.State.SENT).count() == COUNT)
    assert EmailLog.objects.count() == COUNT
