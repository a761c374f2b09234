"""Webhooks out, real all the way: PostgreSQL, Redis, Celery worker processes, the SMTP
sink, web processes for the customer, and a real HTTP receiver that verifies every message
with the standardwebhooks library and takes each event once (by its webhook-id)."""

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import (
    FollowUp,
    Response,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from feedback.services import webhooks
from feedback.tasks import webhook_deliver, webhooks_sweep
from tests.conftest import Processes, WorkerProcess, free_port, process_logs, wait_for
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.smtp import SmtpSink
from tests.staff import member
from tests.test_redis import BUDGET_SECONDS, Portal, Visitor, csrf_token, var_dir
from tests.webhook_receiver import WebhookReceiver, body_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("all_day_window"),
]

__all__ = ["var_dir"]  # a fixture, shared with test_redis


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def endpoint_for(receiver: WebhookReceiver, events: list[str]) -> WebhookEndpoint:
    endpoint = webhooks.webhook_endpoint_create(url=receiver.url, event_types=events)
    receiver.secret = endpoint.secret
    return endpoint


def state_of(delivery: WebhookDelivery) -> str:
    delivery.refresh_from_db()
    return delivery.state


def superuser_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    return client


def test_a_receiver_that_fails_twice_gets_the_event_once_after_retries(
    celery_worker_process: WorkerProcess, receiver: WebhookReceiver, client: Client
) -> None:
    endpoint_for(receiver, ["response.submitted"])
    receiver.plan = [500, 500]
    invitation = InvitationFactory()

    # The customer answers; the event leaves once the answer is committed.
    answered = client.post(f"/f/{invitation.token}/", {"rating": "4", "comment": "Works well"})
    assert answered.status_code == 302
    delivery = WebhookDelivery.objects.get()
    logs = "\n".join(celery_worker_process.log[-30:])
    assert wait_for(lambda: state_of(delivery) == "delivered", timeout=40), logs

    # Three attempts, each signed and verified, all with the event's one webhook-id.
    event = delivery.event
    assert [r.status for r in receiver.attempts] == [500, 500, 200]
    assert all(r.verified for r in receiver.attempts)
    assert {r.webhook_id for r in receiver.attempts} == {event.message_id}
    # The receiver took it once, as the customer wrote it.
    assert list(receiver.accepted) == [event.message_id]
    body = body_of(receiver.attempts[-1])
    assert (body["type"], body["data"]["rating"], body["data"]["comment"]) == (
        "response.submitted",
        4,
        "Works well",
    )
    assert body["data"]["order_id"] == invitation.order.external_id
    # With backoff: 1 s, then 4 s (WEBHOOK_RETRY_BACKOFF_SECONDS=1 in the test workers).
    times = [int(r.headers["webhook-timestamp"]) for r in receiver.attempts]
    assert times[1] - times[0] >= 1 and times[2] - times[1] >= 3

    # The delivery log shows the attempts.
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (3, 200, "")
    log = WebhookAttempt.objects.filter(delivery=delivery)
    assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 500), (3, 200)]
    assert all(a.duration_ms < 5000 for a in log)
    assert "HTTP 500" in log[0].error
    admin = superuser_client()
    page = admin.get(f"/admin/feedback/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert event.message_id in page
    assert len(re.findall(r'class="field-status_code">\s*<p>500</p>', page)) == 2

    # Re-sent from the admin: the same webhook-id, so the receiver knows it already.
    admin.post(
        "/admin/feedback/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert wait_for(lambda: len(receiver.attempts) == 4, timeout=20), logs
    again = receiver.attempts[-1]
    assert (again.verified, again.webhook_id, again.duplicate) == (True, event.message_id, True)
    assert list(receiver.accepted) == [event.message_id]
    assert wait_for(lambda: state_of(delivery) == "delivered")
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 4


def test_the_shops_tool_hears_each_event_signed_with_no_more_personal_data_than_needed(
    celery_worker_process: WorkerProcess, receiver: WebhookReceiver, smtp: SmtpSink
) -> None:
    endpoint_for(receiver, WebhookEventType.values)
    customer = CustomerFactory(email="ana@example.com", name="Ana Ruiz")
    order = OrderFactory(customer=customer, external_id="SHOP-4711")
    services.order_mark_delivered(order=order, delivered_at=timezone.now() - timedelta(days=10))
    logs = lambda: "\n".join(celery_worker_process.log[-40:])  # noqa: E731

    # The worker sends the invitation (its event is written in the worker's transaction).
    call_command("dispatch_invitations", "--queue")
    assert wait_for(lambda: receiver.of_type("invitation.sent"), timeout=30), logs()
    [message] = smtp.to("ana@example.com")
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = urlsplit(re.search(r"https?://\S+/f/\S+/", text).group(0)).path

    # The customer answers, asks to be contacted, then changes the answer.
    customer_client = Client()
    first = {"rating": "2", "comment": "Late", "contact_requested": "on"}
    assert customer_client.post(path, first).status_code == 302
    assert customer_client.post(path, {**first, "rating": "3"}).status_code == 302
    # Staff resolve the request; the customer then stops all invitations by one click.
    follow_up = FollowUp.objects.get()
    staff = Client()
    staff.force_login(member("bob", "Staff"))
    assert staff.post(f"/staff/contacts/{follow_up.pk}/", {"action": "resolve"}).status_code == 302
    one_click = Client(enforce_csrf_checks=True).post(
        f"{path}stop/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200

    expected = set(WebhookEventType.values) - {"contact.replied"}  # the reply thread's own
    heard = lambda: {p["type"] for p in receiver.accepted.values()}  # noqa: E731
    assert wait_for(lambda: heard() == expected, timeout=30), (heard(), logs())
    assert all(r.verified for r in receiver.attempts)
    assert not any(r.duplicate for r in receiver.attempts)
    assert len(receiver.accepted) == len(expected)

    [sent] = receiver.of_type("invitation.sent")
    assert (sent["data"]["order_id"], sent["data"]["kind"]) == ("SHOP-4711", "invitation")
    [submitted] = receiver.of_type("response.submitted")
    assert (submitted["data"]["rating"], submitted["data"]["comment"]) == (2, "Late")
    [updated] = receiver.of_type("response.updated")
    assert updated["data"]["rating"] == 3
    [requested] = receiver.of_type("contact.requested")
    [resolved] = receiver.of_type("contact.resolved")
    assert requested["data"]["follow_up_id"] == resolved["data"]["follow_up_id"] == follow_up.pk
    [unsubscribed] = receiver.of_type("customer.unsubscribed")
    assert unsubscribed["data"]["email"] == "ana@example.com"
    for payload in receiver.accepted.values():
        assert payload["version"] == 1
        assert payload["timestamp"] and payload["data"]
        assert "Ana Ruiz" not in str(payload)
        if payload["type"] != "customer.unsubscribed":
            assert "ana@example.com" not in str(payload)


def test_an_endpoint_failing_for_longer_than_the_days_is_switched_off_with_a_notice(
    processes: Processes, receiver: WebhookReceiver, smtp: SmtpSink
) -> None:
    worker = processes.worker(
        own_queue="webhooks-dead", TEAM_EMAIL="team@shop.example", WEBHOOK_DISABLE_AFTER_DAYS="5"
    )
    worker.wait_ready()
    receiver.always = 500
    endpoint = endpoint_for(receiver, ["response.submitted"])
    now = timezone.now()
    # Every delivery has failed since five days and an hour ago.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=now - timedelta(days=5, hours=1)
    )
    # An event as the outbox holds it, handed to this worker alone: it is the one whose
    # environment has TEAM_EMAIL.
    event = WebhookEvent.objects.create(
        message_id="msg_deadendpoint", type="response.submitted", occurred_at=now, data={}
    )
    delivery = WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        next_attempt_at=now,
        queued_until=now + timedelta(hours=1),
        attempt_limit=8,
    )
    webhook_deliver.apply_async((delivery.pk,), queue=worker.queue)

    def switched_off() -> bool:
        endpoint.refresh_from_db()
        return not endpoint.active

    assert wait_for(switched_off, timeout=30), process_logs(worker)
    assert "HTTP 500" in endpoint.disabled_reason
    assert wait_for(lambda: smtp.to("team@shop.example"), timeout=20), process_logs(worker)
    [notice] = smtp.to("team@shop.example")
    assert receiver.url in notice["Subject"]
    assert "HTTP 500" in notice.get_body(preferencelist=("plain",)).get_content()

    # Nothing more goes to it: the task's retry finds the endpoint off.
    time.sleep(3)
    assert len(receiver.attempts) == 1
    assert state_of(delivery) == "pending"
    listing = superuser_client().get("/admin/feedback/webhookendpoint/").content.decode()
    assert f"Webhook endpoint {receiver.url} is off. Switched off on" in listing


def test_events_written_while_redis_is_down_are_delivered_by_the_sweep(
    processes: Processes,
    var_dir: Path,
    celery_worker_process: WorkerProcess,
    receiver: WebhookReceiver,
) -> None:
    endpoint_for(receiver, ["response.submitted", "customer.unsubscribed"])
    portal = Portal(processes, var_dir, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    portal.wait_ready()
    answered, unsubscribed = InvitationFactory(), InvitationFactory()

    # The customer answers and another unsubscribes while the web process has no broker.
    customer = Visitor(portal)
    shown = customer.get(f"/f/{answered.token}/")
    form = {"csrfmiddlewaretoken": csrf_token(shown.text), "action": "send", "rating": "5"}
    assert customer.post(f"/f/{answered.token}/", form).status_code == 302, portal.log
    provider = Visitor(portal)
    stop = provider.post(f"/f/{unsubscribed.token}/stop/", {"List-Unsubscribe": "One-Click"})
    assert stop.status_code == 200, portal.log
    took = {**customer.took, **provider.took}
    assert all(seconds < BUDGET_SECONDS for seconds in took.values()), took
    assert Response.objects.get(invitation=answered).rating == 5

    # Written with the change, left for the sweep; nothing reached the receiver.
    deliveries = list(WebhookDelivery.objects.all())
    assert len(deliveries) == 2
    assert all(d.state == "pending" and d.queued_until is None for d in deliveries)
    assert receiver.attempts == []

    # Beat's sweep, with the broker back, delivers both.
    webhooks_sweep.delay()
    heard = lambda: {p["type"] for p in receiver.accepted.values()}  # noqa: E731
    logs = process_logs(celery_worker_process)
    assert wait_for(lambda: heard() == {"response.submitted", "customer.unsubscribed"}), logs
    assert all(r.verified for r in receiver.attempts)
    assert len(receiver.attempts) == 2
