"""Webhooks out, in-process: which changes emit which events with which data, and what one
attempt does against a real HTTP receiver (signed, recorded, retried, given up, switched
off). The worker's part is in test_webhooks_integration.py."""

import json
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from feedback import services
from feedback.models import (
    FollowUp,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from feedback.services import webhooks
from feedback.services.contacts import followup_resolve
from feedback.services.privacy import customer_erase
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.silent_server import SilentServer
from tests.smtp import SmtpSink
from tests.staff import member
from tests.webhook_receiver import WebhookReceiver, body_of

pytestmark = pytest.mark.django_db

ALL = WebhookEventType.values


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def endpoint_for(receiver: WebhookReceiver, events: list[str] = ALL) -> WebhookEndpoint:
    endpoint = webhooks.webhook_endpoint_create(url=receiver.url, event_types=events)
    receiver.secret = endpoint.secret
    return endpoint


def events() -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in WebhookEvent.objects.order_by("pk")]


def test_it_records_an_event_only_for_the_active_endpoints_that_want_it(
    receiver: WebhookReceiver,
) -> None:
    wants = endpoint_for(receiver, ["response.submitted"])
    webhooks.webhook_endpoint_create(url=receiver.url, event_types=["invitation.sent"])
    webhooks.webhook_endpoint_create(url=receiver.url, event_types=ALL, active=False)

    services.response_submit(invitation=InvitationFactory(), rating=4)
    services.customer_stop_invitations(customer=CustomerFactory())  # nobody wants it

    assert [t for t, _data in events()] == ["response.submitted"]
    assert [d.endpoint for d in WebhookDelivery.objects.all()] == [wants]


def test_nothing_is_recorded_without_endpoints() -> None:
    services.response_submit(invitation=InvitationFactory(), rating=4)
    assert WebhookEvent.objects.count() == 0


def test_an_answer_emits_itself_and_the_request_to_be_contacted(
    receiver: WebhookReceiver,
) -> None:
    endpoint_for(receiver)
    customer = CustomerFactory(email="ana@example.com", name="Ana Ruiz")
    invitation = InvitationFactory(order=OrderFactory(customer=customer, external_id="SHOP-7"))

    answer = services.response_submit(
        invitation=invitation, rating=2, comment="Late parcel", contact_requested=True
    )

    (submitted_type, submitted), (requested_type, requested) = events()
    assert (submitted_type, requested_type) == ("response.submitted", "contact.requested")
    assert submitted["order_id"] == "SHOP-7"
    assert (submitted["rating"], submitted["comment"]) == (2, "Late parcel")
    assert submitted["response_id"] == answer.pk
    assert requested["follow_up_id"] == FollowUp.objects.get(response=answer).pk
    assert requested["order_id"] == "SHOP-7"
    # No more personal data than the point of the event: no address, no name, and the
    # comment only in the response event.
    everything = json.dumps(events())
    assert "ana@example.com" not in everything and "Ana Ruiz" not in everything
    assert "comment" not in requested


def test_an_edit_emits_response_updated_and_a_new_contact_request_once(
    receiver: WebhookReceiver,
) -> None:
    endpoint_for(receiver)
    invitation = InvitationFactory()
    services.response_submit(invitation=invitation, rating=3)
    services.response_submit(invitation=invitation, rating=4, contact_requested=True)
    services.response_submit(invitation=invitation, rating=5, contact_requested=True)

    assert [t for t, _data in events()] == [
        "response.submitted",
        "response.updated",
        "contact.requested",
        "response.updated",
    ]
    assert events()[-1][1]["rating"] == 5


def test_resolving_a_contact_emits_contact_resolved_once(receiver: WebhookReceiver) -> None:
    endpoint_for(receiver, ["contact.resolved"])
    answer = services.response_submit(
        invitation=InvitationFactory(), rating=1, contact_requested=True
    )
    bob = member("bob", "Staff")
    assert followup_resolve(follow_up=answer.follow_up, by=bob)
    assert not followup_resolve(follow_up=answer.follow_up, by=bob)

    [(kind, data)] = events()
    assert kind == "contact.resolved"
    assert (data["follow_up_id"], data["status"]) == (answer.follow_up.pk, "resolved")
    assert data["resolved_at"]


def test_stopping_all_invitations_emits_customer_unsubscribed_once_with_the_address(
    receiver: WebhookReceiver,
) -> None:
    endpoint_for(receiver)
    customer = CustomerFactory(email="bo@example.com")
    services.customer_stop_invitations(customer=customer)
    services.customer_stop_invitations(customer=customer)

    [(kind, data)] = events()
    assert kind == "customer.unsubscribed"
    assert (data["customer_id"], data["email"]) == (customer.pk, "bo@example.com")


def test_sending_an_invitation_emits_invitation_sent(
    receiver: WebhookReceiver, smtp_settings: SmtpSink, all_day_window: None
) -> None:
    endpoint_for(receiver)
    order = OrderFactory(external_id="SHOP-9", customer=CustomerFactory(email="cy@example.com"))
    invitation = services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )
    services.invitation_send_batch(invitation_ids=[invitation.pk])

    assert smtp_settings.count() == 1
    [(kind, data)] = events()
    assert kind == "invitation.sent"
    assert (data["invitation_id"], data["order_id"], data["kind"]) == (
        invitation.pk,
        "SHOP-9",
        "invitation",
    )
    assert "cy@example.com" not in json.dumps(data)


def test_a_change_that_is_rolled_back_emits_nothing(receiver: WebhookReceiver) -> None:
    endpoint_for(receiver)
    invitation = InvitationFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.response_submit(invitation=invitation, rating=4)
        raise RuntimeError("the request failed after the answer")
    assert WebhookEvent.objects.count() == WebhookDelivery.objects.count() == 0


def pending(receiver: WebhookReceiver, **endpoint: object) -> WebhookDelivery:
    """One event waiting for delivery to the receiver's endpoint."""
    target = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=target.pk).update(**endpoint)
    services.response_submit(invitation=InvitationFactory(), rating=4, comment="Fine")
    return WebhookDelivery.objects.get()


def attempt(delivery: WebhookDelivery) -> WebhookDelivery | None:
    """One attempt now, as the worker's task makes it (due now whatever the backoff)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    return webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)


def test_it_delivers_a_signed_body_and_records_the_attempt(receiver: WebhookReceiver) -> None:
    delivery = pending(receiver)
    attempt(delivery)

    [received] = receiver.attempts
    assert received.verified and received.status == 200
    assert received.webhook_id == delivery.event.message_id
    body = body_of(received)
    assert (body["type"], body["version"]) == ("response.submitted", 1)
    assert body["data"]["comment"] == "Fine"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    [logged] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (logged.number, logged.status_code, logged.error) == (1, 200, "")
    # A second task for the same delivery (e.g. the sweep's) sends nothing more.
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.attempts) == 1


def test_a_receiver_without_the_secret_cannot_verify_it(receiver: WebhookReceiver) -> None:
    delivery = pending(receiver)
    receiver.secret = webhooks.webhook_secret_new()  # someone else's
    attempt(delivery)
    assert [r.verified for r in receiver.attempts] == [False]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("pending", 401)


def test_failures_back_off_and_the_delivery_is_given_up_after_its_attempts(
    receiver: WebhookReceiver, settings: object
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 30
    receiver.always = 503
    delivery = pending(receiver)

    before = timezone.now()
    first = attempt(delivery)
    assert first.state == "pending"
    assert timedelta(seconds=29) < first.next_attempt_at - before < timedelta(seconds=40)
    second = attempt(delivery)
    assert timedelta(seconds=119) < second.next_attempt_at - before < timedelta(seconds=140)
    assert attempt(delivery).state == "failed"

    assert len(receiver.attempts) == 3 and all(r.verified for r in receiver.attempts)
    assert len({r.webhook_id for r in receiver.attempts}) == 1
    log = WebhookAttempt.objects.filter(delivery=delivery)
    assert [(a.number, a.status_code) for a in log] == [(1, 503), (2, 503), (3, 503)]
    assert "HTTP 503" in log.last().error
    assert attempt(delivery) is None  # given up: no fourth attempt


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_receiver_is_a_recorded_error_not_a_crash(
    receiver: WebhookReceiver,
) -> None:
    delivery = pending(receiver, url=f"http://127.0.0.1:{free_port()}/hooks")
    attempt(delivery)
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.last_status_code is None
    assert "Connection refused" in delivery.last_error or "ConnectionError" in delivery.last_error


def test_a_silent_receiver_times_out(receiver: WebhookReceiver, settings: object) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with SilentServer() as silent:
        delivery = pending(receiver, url=f"http://127.0.0.1:{silent.port}/hooks")
        attempt(delivery)
    delivery.refresh_from_db()
    assert "timed out" in delivery.last_error.lower()
    assert delivery.last_duration_ms >= 1000


def test_an_endpoint_failing_for_longer_than_the_days_is_switched_off_with_a_notice(
    receiver: WebhookReceiver, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    settings.TEAM_EMAIL = "team@shop.example"
    receiver.always = 500
    delivery = pending(receiver, failing_since=timezone.now() - timedelta(days=5, hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        attempt(delivery)

    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert "HTTP 500" in endpoint.disabled_reason
    [notice] = mail.outbox
    assert notice.to == ["team@shop.example"]
    assert receiver.url in notice.subject and "HTTP 500" in notice.body
    assert attempt(delivery) is None  # nothing more goes to it


def test_an_endpoint_failing_for_less_than_the_days_stays_on_and_a_success_clears_it(
    receiver: WebhookReceiver, settings: object
) -> None:
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    receiver.plan = [500]
    delivery = pending(receiver, failing_since=timezone.now() - timedelta(days=4))
    attempt(delivery)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.active and endpoint.failing_since is not None

    attempt(delivery)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None
    assert len(mail.outbox) == 0


def test_the_first_failure_starts_the_count(receiver: WebhookReceiver) -> None:
    receiver.always = 500
    delivery = pending(receiver)
    attempt(delivery)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.active
    assert timezone.now() - endpoint.failing_since < timedelta(minutes=1)


def test_erasing_a_customer_erases_their_events(receiver: WebhookReceiver) -> None:
    delivery = pending(receiver)
    customer = delivery.event.customer
    customer_erase(customer=customer, performed_by=None)
    assert WebhookEvent.objects.count() == WebhookDelivery.objects.count() == 0
