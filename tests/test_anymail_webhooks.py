"""Providers' webhooks (django-anymail) reach the same suppression list: Postmark's and
Mailgun's tracking events, posted to the real URLs with the authentication anymail requires
(basic auth; Mailgun's signature too), in the payloads each provider documents. Inbound mail
from a provider goes the same way as mail piped in by the mail server."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.test import Client

from feedback import verp
from feedback.models import Customer, DeliveryEvent, EmailLog, InboundMessage, Suppression
from feedback.tokens import address_hash
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.mailback import FIXTURES, use_return_paths

pytestmark = pytest.mark.django_db

BASIC_AUTH = "Basic " + base64.b64encode(settings.ANYMAIL_WEBHOOK_SECRET.encode()).decode()


def sent_to(email: str, message_id: str = "<20261201101500.4242.1@testserver>") -> EmailLog:
    order = OrderFactory(customer=CustomerFactory(email=email))
    invitation = InvitationFactory(order=order)
    return EmailLog.objects.create(
        invitation=invitation,
        kind="invitation",
        message_id=message_id,
        to_email=email,
        outcome="sent",
    )


def suppression_of(email: str) -> Suppression | None:
    return Suppression.objects.filter(address_hash=address_hash(email)).first()


def post_json(client: Client, path: str, payload: dict, auth: str = BASIC_AUTH) -> int:
    response = client.post(
        path, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    return response.status_code


# Postmark: https://postmarkapp.com/developer/webhooks/bounce-webhook and
# .../spam-complaint-webhook; authenticated by basic auth only.


def postmark_bounce(email: str, log: EmailLog, kind: str = "HardBounce") -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "invitation",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"email_log": str(log.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "feedback@tostadero-lumen.example",
        "BouncedAt": "2026-12-01T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "How was your order?",
    }


def test_a_postmark_hard_bounce_suppresses_the_address(client: Client) -> None:
    log = sent_to("gone@example.net")
    payload = postmark_bounce("gone@example.net", log)
    assert post_json(client, "/mail/anymail/postmark/tracking/", payload) == 200
    entry = suppression_of("gone@example.net")
    assert (entry.reason, entry.source, entry.customer) == (
        "hard_bounce",
        "provider",
        log.invitation.customer,
    )
    event = DeliveryEvent.objects.get()
    assert (event.kind, event.source, event.email_log) == ("hard_bounce", "provider", log)
    assert event.recipient_domain == "example.net"


def test_a_postmark_soft_bounce_counts_only_when_repeated(client: Client) -> None:
    log = sent_to("full@example.net")
    payload = postmark_bounce("full@example.net", log, kind="SoftBounce")
    for bounce_id in (101, 102):
        payload["ID"] = bounce_id
        assert post_json(client, "/mail/anymail/postmark/tracking/", payload) == 200
    assert suppression_of("full@example.net") is None
    payload["ID"] = 103
    assert post_json(client, "/mail/anymail/postmark/tracking/", payload) == 200
    assert suppression_of("full@example.net").reason == "soft_bounces"


def test_a_retried_webhook_counts_once(client: Client) -> None:
    # Postmark retries a webhook whose answer it did not get; the bounce's ID is the same.
    log = sent_to("full@example.net")
    payload = postmark_bounce("full@example.net", log, kind="SoftBounce")
    for _ in range(3):
        assert post_json(client, "/mail/anymail/postmark/tracking/", payload) == 200
    assert DeliveryEvent.objects.count() == 1
    assert suppression_of("full@example.net") is None


def test_a_postmark_spam_complaint_stops_all_invitations(client: Client) -> None:
    log = sent_to("ana@example.com")
    payload = {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "invitation",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Metadata": {"email_log": str(log.pk)},
        "ServerID": 1234,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": "ana@example.com",
        "From": "feedback@tostadero-lumen.example",
        "BouncedAt": "2026-12-01T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "How was your order?",
    }
    assert post_json(client, "/mail/anymail/postmark/tracking/", payload) == 200
    assert suppression_of("ana@example.com").reason == "complaint"
    assert Customer.objects.get(email="ana@example.com").invitations_stopped_at is not None
    assert DeliveryEvent.objects.get().kind == "complaint"


def test_a_webhook_without_the_secret_changes_nothing(client: Client) -> None:
    log = sent_to("gone@example.net")
    payload = postmark_bounce("gone@example.net", log)
    wrong = "Basic " + base64.b64encode(b"anymail-tests:guess").decode()
    assert post_json(client, "/mail/anymail/postmark/tracking/", payload, auth=wrong) == 400
    assert post_json(client, "/mail/anymail/postmark/tracking/", payload, auth="") == 400
    assert not Suppression.objects.exists()
    assert not DeliveryEvent.objects.exists()


# Mailgun: https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/
# (webhooks); signed with the HTTP webhook signing key (HMAC-SHA256 of timestamp + token).


def mailgun_signature(key: str = settings.ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY) -> dict:
    timestamp, token = str(int(time.time())), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def mailgun_event(event: dict, message_id: str, email: str) -> dict:
    return {
        "signature": mailgun_signature(),
        "event-data": {
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": 1764606195.375624,
            "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
            "message": {
                "headers": {
                    "to": email,
                    "message-id": message_id,
                    "from": "Tostadero Lumen <feedback@tostadero-lumen.example>",
                    "subject": "How was your order?",
                },
                "attachments": [],
                "size": 8121,
            },
            "recipient": email,
            "recipient-domain": email.rpartition("@")[2],
            "campaigns": [],
            "tags": ["invitation"],
            "user-variables": {},
            **event,
        },
    }


MAILGUN_FAILED = {
    "event": "failed",
    "log-level": "error",
    "severity": "permanent",
    "reason": "bounce",
    "delivery-status": {
        "attempt-no": 1,
        "message": "",
        "code": 550,
        "enhanced-code": "5.1.1",
        "description": "The email account that you tried to reach does not exist.",
        "session-seconds": 1.2,
    },
    "envelope": {
        "transport": "smtp",
        "sender": "bounces@tostadero-lumen.example",
        "sending-ip": "209.61.154.250",
        "targets": "gone@example.net",
    },
}


def test_a_mailgun_permanent_failure_matched_by_message_id_suppresses(client: Client) -> None:
    # Without our metadata, the Message-ID finds the message (Mailgun drops the brackets).
    log = sent_to("gone@example.net", message_id="<20261201.4242.2@testserver>")
    payload = mailgun_event(MAILGUN_FAILED, "20261201.4242.2@testserver", "gone@example.net")
    assert post_json(client, "/mail/anymail/mailgun/tracking/", payload) == 200
    assert suppression_of("gone@example.net").source == "provider"
    assert DeliveryEvent.objects.get().email_log == log


def test_a_mailgun_complaint_with_our_metadata_stops_all_invitations(client: Client) -> None:
    log = sent_to("ana@example.com")
    event = {
        "event": "complained",
        "log-level": "warn",
        "envelope": {"sending-ip": "173.193.210.33"},
        "user-variables": {"email_log": str(log.pk)},
    }
    payload = mailgun_event(event, "elsewhere@mailgun.example", "ana@example.com")
    assert post_json(client, "/mail/anymail/mailgun/tracking/", payload) == 200
    assert suppression_of("ana@example.com").reason == "complaint"
    assert DeliveryEvent.objects.get().email_log == log
    assert Customer.objects.get(email="ana@example.com").invitations_stopped_at is not None


def test_a_mailgun_event_with_a_wrong_signature_changes_nothing(client: Client) -> None:
    sent_to("gone@example.net")
    payload = mailgun_event(MAILGUN_FAILED, "x@testserver", "gone@example.net")
    payload["signature"] = mailgun_signature(key="not-the-key")
    assert post_json(client, "/mail/anymail/mailgun/tracking/", payload) == 400
    assert not Suppression.objects.exists()


def test_a_mailgun_temporary_failure_is_not_a_bounce(client: Client) -> None:
    # Mailgun retries it; anymail calls it "deferred". A later "failed" settles it.
    sent_to("slow@example.net")
    event = {**MAILGUN_FAILED, "severity": "temporary", "log-level": "warn"}
    payload = mailgun_event(event, "x@testserver", "slow@example.net")
    assert post_json(client, "/mail/anymail/mailgun/tracking/", payload) == 200
    assert not DeliveryEvent.objects.exists()


def test_a_bounce_through_the_inbound_webhook_is_read_like_a_piped_one(
    client: Client, settings: object
) -> None:
    use_return_paths(settings)
    log = sent_to("gone@example.net")
    return_path = verp.signed_address(verp.BOUNCE, log.pk)
    raw = (FIXTURES / "postfix-hard.eml").read_text()
    for key, value in {
        "VERP": return_path,
        "RECIPIENT": "gone@example.net",
        "MESSAGE_ID": log.message_id,
    }.items():
        raw = raw.replace("{{" + key + "}}", value)
    form = {**mailgun_signature(), "recipient": return_path, "body-mime": raw}
    response = client.post(
        "/mail/anymail/mailgun/inbound_mime/", form, HTTP_AUTHORIZATION=BASIC_AUTH
    )
    assert response.status_code == 200
    kept = InboundMessage.objects.get()
    assert (kept.channel, kept.kind, kept.email_log) == ("webhook", "bounce", log)
    assert suppression_of("gone@example.net").source == "dsn"
