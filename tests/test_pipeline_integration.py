"""The walking skeleton, real all the way: PostgreSQL, Redis, a Celery worker process, SMTP."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import EmailLog, Invitation, Response
from feedback.tasks import invitations_sweep
from tests.conftest import WorkerProcess, wait_for
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]


def deliver_order(email: str) -> Invitation:
    order = OrderFactory(customer=CustomerFactory(email=email))
    delivered_at = timezone.now() - timedelta(days=10)
    return services.order_mark_delivered(order=order, delivered_at=delivered_at)


def link_in(message: object) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/f/\S+/", text).group(0)


def wait_until_sent(invitation: Invitation, worker: WorkerProcess) -> None:
    def sent() -> bool:
        invitation.refresh_from_db()
        return invitation.state == Invitation.State.SENT

    assert wait_for(sent), "\n".join(worker.log[-30:])


def test_it_delivers_one_invitation_and_takes_the_answer(
    smtp: SmtpSink, celery_worker_process: WorkerProcess, client: Client
) -> None:
    invitation = deliver_order("ana@example.com")
    assert invitation.state == Invitation.State.SCHEDULED

    call_command("dispatch_invitations", "--queue")
    assert wait_for(lambda: smtp.count() >= 1), "\n".join(celery_worker_process.log[-30:])
    wait_until_sent(invitation, celery_worker_process)
    [message] = smtp.to("ana@example.com")
    assert message["Message-ID"] == EmailLog.objects.get(invitation=invitation).message_id

    path = urlsplit(link_in(message)).path
    page = client.get(path)
    assert page.status_code == 200
    assert invitation.order.items.first().name in page.content.decode()
    answer = client.post(path, {"rating": "5", "comment": "Arrived early, works well"})
    assert answer.status_code == 302
    stored = Response.objects.get(invitation=invitation)
    assert (stored.rating, stored.comment) == (5, "Arrived early, works well")

    call_command("dispatch_invitations", "--queue")
    invitations_sweep.delay()
    # Give the worker time to act on anything it was (wrongly) handed.
    assert not wait_for(lambda: smtp.count() > 1, timeout=5)
    assert smtp.count() == 1
    assert EmailLog.objects.filter(invitation=invitation).count() == 1


def test_it_sends_through_the_beat_sweep_task(
    smtp: SmtpSink, celery_worker_process: WorkerProcess
) -> None:
    invitations = [deliver_order(f"beat{n}@example.com") for n in range(3)]
    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() == 3), "\n".join(celery_worker_process.log[-30:])
    for invitation in invitations:
        wait_until_sent(invitation, celery_worker_process)
        assert len(smtp.to(invitation.customer.email)) == 1
    invitations_sweep.delay()
    assert not wait_for(lambda: smtp.count() > 3, timeout=5)


def test_it_sends_the_asked_for_later_email_once_through_the_worker(
    smtp: SmtpSink, celery_worker_process: WorkerProcess, client: Client
) -> None:
    invitation = deliver_order("later@example.com")
    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() == 1), "\n".join(celery_worker_process.log[-30:])
    wait_until_sent(invitation, celery_worker_process)
    path = urlsplit(link_in(smtp.messages[0])).path
    assert client.post(path + "later/", {"days": "7"}).status_code == 302
    refused = client.post(path + "later/", {"days": "30"})
    assert "You already asked us to ask later" in refused.content.decode()

    Invitation.objects.filter(pk=invitation.pk).update(due_at=timezone.now())
    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() == 2), "\n".join(celery_worker_process.log[-30:])
    wait_until_sent(invitation, celery_worker_process)
    invitations_sweep.delay()
    assert not wait_for(lambda: smtp.count() > 2, timeout=5)
    first, later = smtp.to("later@example.com")
    assert link_in(later) == link_in(first)
    assert [log.kind for log in EmailLog.objects.filter(invitation=invitation)] == [
        "invitation",
        "later",
    ]


def test_the_received_message_offers_rfc_8058_one_click_unsubscribe(
    smtp: SmtpSink, celery_worker_process: WorkerProcess
) -> None:
    invitation = deliver_order("oneclick@example.com")
    waiting = services.order_mark_delivered(
        order=OrderFactory(customer=invitation.customer), delivered_at=timezone.now()
    )
    invitations_sweep.delay()
    assert wait_for(lambda: smtp.count() == 1), "\n".join(celery_worker_process.log[-30:])
    [message] = smtp.to("oneclick@example.com")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://\S+)>", message["List-Unsubscribe"].strip()).group(1)
    path = urlsplit(url).path

    # A link scanner's GET must not unsubscribe.
    assert Client().get(path).status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is None

    # The mail client's one-click POST: no cookies, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    invitation.customer.refresh_from_db()
    assert invitation.customer.invitations_stopped_at is not None
    waiting.refresh_from_db()
    assert (waiting.state, waiting.suppression_reason) == ("suppressed", "opted_out")
