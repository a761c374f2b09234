"""Replying from the contact page, the customer's answer coming back, and working the
queue: the services and the page, with a real SMTP server where mail is sent."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from feedback import emails, tokens
from feedback.models import (
    ContactMessage,
    EmailLog,
    FollowUp,
    FollowUpNote,
    InboundMessage,
    ReplyTemplate,
    Response,
    TeamNotification,
)
from feedback.services import contacts
from feedback.services.inbound import inbound_receive
from feedback.services.notify import team_notification_deliver
from tests.conftest import free_port
from tests.factories import InvitationFactory, OrderFactory
from tests.smtp import SmtpSink
from tests.staff import answered, member

pytestmark = pytest.mark.django_db

REPLY = "reply@tostadero-lumen.example"


@pytest.fixture(autouse=True)
def reply_address(settings: object) -> None:
    settings.REPLY_ADDRESS = REPLY


@pytest.fixture
def bob(client: Client) -> object:
    user = member("bob", "Staff")
    client.force_login(user)
    return user


def page(follow_up: FollowUp) -> str:
    return f"/staff/contacts/{follow_up.pk}/"


def incoming(to: str, body: str, *, html: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = "customer@example.com"
    message["To"] = to
    message["Subject"] = "Re: your order"
    if body:
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    return message.as_bytes()


def test_the_reply_address_is_signed_and_survives_a_change_of_case() -> None:
    address = tokens.reply_address(42)
    local, domain = address.split("@")
    assert domain == "tostadero-lumen.example" and local.startswith("reply+42-")
    for seen in (address, address.upper(), f"<{address}>"):
        assert tokens.reply_address_verify(tokens.reply_address_tag(seen)) == 42
    assert (
        tokens.reply_address_verify(tokens.reply_address_tag(address.replace("42-", "43-"))) is None
    )
    assert tokens.reply_address_tag("reply@tostadero-lumen.example") is None
    assert tokens.reply_address_tag("other+42-x@tostadero-lumen.example") is None
    assert tokens.reply_address_tag(address.replace("tostadero-lumen", "elsewhere")) is None


def test_a_reply_carries_the_shop_and_a_reply_to_in_the_customers_language(bob: object) -> None:
    follow_up = answered(name="Ana", email="ana@example.com", locale="es").follow_up
    message = contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Hola Ana")
    built = emails.reply_message(message, message_id="<m1@testserver>")
    assert built.from_email == "Tostadero Lumen <feedback@tostadero-lumen.example>"
    assert built.reply_to == [tokens.reply_address(follow_up.pk)]
    assert built.to == ["ana@example.com"]
    assert built.subject.startswith("Tu pedido")
    assert "Hola Ana" in built.body and "Calle del Espíritu Santo" in built.body


@translation.override("en")
def test_it_sends_only_to_customers_who_asked(bob: object) -> None:
    response = answered(contact_requested=True)
    follow_up = response.follow_up
    with pytest.raises(contacts.FollowUpRefused, match="Write your reply first"):
        contacts.contact_reply_send(follow_up=follow_up, author=bob, text="   ")
    response.contact_requested = False
    with pytest.raises(contacts.FollowUpRefused, match="did not ask to be contacted"):
        contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Hello")
    assert not ContactMessage.objects.exists()


def test_the_page_refuses_an_empty_reply_and_keeps_a_long_one_out(
    client: Client, bob: object
) -> None:
    follow_up = answered().follow_up
    html = client.post(page(follow_up), {"action": "reply", "text": " "}).content.decode()
    assert "Write your reply first." in html
    html = client.post(page(follow_up), {"action": "reply", "text": "x" * 5001}).content.decode()
    assert "5000 characters or fewer" in html
    assert not ContactMessage.objects.exists()


def test_a_sent_reply_is_logged_as_a_reply_and_counts_as_the_first_response(
    bob: object, smtp_settings: SmtpSink
) -> None:
    follow_up = answered(email="ana@example.com").follow_up
    message = contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Hello Ana")
    assert contacts.contact_reply_deliver(message_id=message.pk) == "sent"
    [received] = smtp_settings.to("ana@example.com")
    assert received["Reply-To"] == tokens.reply_address(follow_up.pk)
    message.refresh_from_db()
    follow_up.refresh_from_db()
    assert message.status == "sent" and follow_up.first_response_at == message.sent_at
    assert EmailLog.objects.get().kind == "reply"
    # Two replies to one request are two accepted messages: no "one per kind" limit.
    second = contacts.contact_reply_send(follow_up=follow_up, author=bob, text="And also")
    assert contacts.contact_reply_deliver(message_id=second.pk) == "sent"
    assert EmailLog.objects.filter(kind="reply", outcome="sent").count() == 2


def test_a_refused_reply_says_not_sent_and_keeps_its_text(
    client: Client, bob: object, smtp_settings: SmtpSink
) -> None:
    follow_up = answered(email="gone@example.com").follow_up
    smtp_settings.refused.add("gone@example.com")
    message = contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Kept text")
    assert contacts.contact_reply_deliver(message_id=message.pk) == "failed"
    html = client.get(page(follow_up)).content.decode()
    assert "not sent, try again" in html and "Kept text" in html


def test_a_mail_server_that_is_down_is_tried_again_and_the_reply_can_be_resent(
    client: Client, bob: object, settings: object, smtp_settings: SmtpSink
) -> None:
    follow_up = answered(email="ana@example.com").follow_up
    settings.EMAIL_PORT = free_port()  # nothing listens there
    message = contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Hello again")
    with pytest.raises(contacts.ReplyNotSentYet):
        contacts.contact_reply_deliver(message_id=message.pk)
    # The task's last retry gives up: staff see it and send it again once the server is back.
    contacts.contact_reply_give_up(message_id=message.pk, error="connection refused")
    assert "not sent, try again" in client.get(page(follow_up)).content.decode()
    settings.EMAIL_PORT = smtp_settings.port
    response = client.post(page(follow_up), {"action": "send_again", "message": message.pk})
    assert response.status_code == 302
    assert contacts.contact_reply_deliver(message_id=message.pk) == "sent"
    assert len(smtp_settings.to("ana@example.com")) == 1


def test_an_html_only_answer_joins_the_thread_without_its_quote() -> None:
    follow_up = answered().follow_up
    to = tokens.reply_address(follow_up.pk)
    html = "<p>Yes, Tuesday works.</p><blockquote>When may we call?</blockquote>"
    record = inbound_receive(incoming(to, "", html=html))
    assert record.kind == "reply"
    assert ContactMessage.objects.get(direction="in").text == "Yes, Tuesday works."


def test_a_signature_is_left_out_of_the_thread() -> None:
    follow_up = answered().follow_up
    body = "Fine by me.\n\n-- \nAna Perez\nSent from my phone\n"
    inbound_receive(incoming(tokens.reply_address(follow_up.pk), body))
    assert ContactMessage.objects.get(direction="in").text == "Fine by me."


def test_a_forged_or_stale_address_attaches_nothing() -> None:
    follow_up = answered().follow_up
    forged = tokens.reply_address(follow_up.pk).replace(f"+{follow_up.pk}-", "+999999-")
    assert inbound_receive(incoming(forged, "Hi")).kind == InboundMessage.Kind.FORGED
    gone = tokens.reply_address(999999)
    record = inbound_receive(incoming(gone, "Hi"))
    assert record.kind == "other" and "no longer exists" in record.note
    assert not ContactMessage.objects.exists()


def test_an_answer_reopens_a_resolved_request(bob: object) -> None:
    follow_up = answered().follow_up
    contacts.followup_resolve(follow_up=follow_up, by=bob, note="Called her.")
    inbound_receive(incoming(tokens.reply_address(follow_up.pk), "One more thing."))
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.resolved_at) == ("open", None)
    assert list(FollowUpNote.objects.values_list("text", flat=True)) == [
        "Called her.",
        "Resolved.",
        "Reopened: the customer replied.",
    ]


def test_staff_assign_to_themselves_and_resolve_with_a_note(client: Client, bob: object) -> None:
    follow_up = answered().follow_up
    response = client.post(page(follow_up), {"action": "assign_me"}, follow=True)
    assert "Assigned to you." in response.content.decode()
    client.post(page(follow_up), {"action": "resolve", "note": "Refund sent."})
    follow_up.refresh_from_db()
    assert (follow_up.assignee, follow_up.status) == (bob, "resolved")
    # Resolving before any reply (a phone call) counts as the first response.
    assert follow_up.first_response_at == follow_up.resolved_at
    assert [n.text for n in follow_up.entries.all()] == [
        "Assigned to bob.",
        "Refund sent.",
        "Resolved.",
    ]


def test_the_queue_finds_requests_by_customer_order_or_text(client: Client, bob: object) -> None:
    ana = answered(name="Ana Alba", email="ana@example.com", comment="Lid cracked").follow_up
    answered(name="Bo Berg", email="bo@example.com", comment="Too slow")
    order = ana.response.invitation.order.external_id
    ContactMessage.objects.create(
        follow_up=ana, direction="in", status="received", text="The courier was rude"
    )
    for query in ("alba", "ana@example", order, "cracked", "courier rude"):
        html = client.get("/staff/contacts/", {"q": query}).content.decode()
        assert "Ana Alba" in html and "Bo Berg" not in html, query
    assert (
        "No contact requests here." in client.get("/staff/contacts/", {"q": "zzz"}).content.decode()
    )


def test_the_page_links_the_customers_other_orders_and_answers(client: Client, bob: object) -> None:
    response = answered(name="Ana", email="ana@example.com", comment="Lid cracked")
    customer = response.invitation.order.customer
    earlier = InvitationFactory(order=OrderFactory(customer=customer, external_id="OLD-1"))
    answered_before = InvitationFactory(
        order=OrderFactory(customer=customer, external_id="OLD-2"), state="responded"
    )
    Response.objects.create(
        invitation=answered_before, rating=5, comment="Great beans", submitted_at=timezone.now()
    )
    html = client.get(page(response.follow_up)).content.decode()
    history = html[html.index('id="history"') :].split("</ul>")[0]
    assert "OLD-1" in history and "no answer" in history
    assert "OLD-2" in history and "5/5" in history and "Great beans" in history
    assert earlier.order.external_id != response.invitation.order.external_id


def test_saved_replies_are_kept_per_language_and_start_a_reply(client: Client, bob: object) -> None:
    response = client.post(
        "/staff/contacts/saved-replies/",
        {"name": "Sorry", "language": "es", "text": "Lo sentimos mucho."},
    )
    assert response.status_code == 302
    duplicate = client.post(
        "/staff/contacts/saved-replies/", {"name": "Sorry", "language": "es", "text": "x"}
    )
    assert "exists already" in duplicate.content.decode()
    template = ReplyTemplate.objects.get()
    follow_up = answered(locale="es").follow_up
    html = client.get(page(follow_up), {"template": template.pk}).content.decode()
    assert "Lo sentimos mucho.</textarea>" in html
    assert client.get(page(follow_up), {"template": "nonsense"}).status_code == 200


def test_the_team_is_told_once_per_request(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.TEAM_EMAIL = "team@tostadero-lumen.example"
    with django_capture_on_commit_callbacks(execute=False):
        follow_up, _created = contacts.followup_open(response=answered(contact_requested=False))
    assert contacts.followup_notify_team(follow_up=follow_up) == 1
    assert contacts.followup_notify_team(follow_up=follow_up) == 0
    notification = TeamNotification.objects.get()
    assert team_notification_deliver(notification_id=notification.pk)
    assert team_notification_deliver(notification_id=notification.pk)
    assert len(mail.outbox) == 1
    assert f"/staff/contacts/{follow_up.pk}/" in mail.outbox[0].body


def test_the_daily_digest_lists_yesterdays_requests_once(settings: object) -> None:
    settings.TEAM_EMAIL = "team@tostadero-lumen.example"
    settings.TEAM_NOTIFY = "daily"
    settings.SHOP_TIME_ZONE = "Europe/Madrid"
    now = timezone.now()
    for name, ago in [("Yesterday Yara", 1), ("Today Tom", 0), ("Old Olga", 3)]:
        follow_up = answered(name=name).follow_up
        FollowUp.objects.filter(pk=follow_up.pk).update(created_at=now - timedelta(days=ago))
    assert not TeamNotification.objects.exists()  # "daily": no message per request
    assert contacts.team_digest_send(now=now) == 1
    assert contacts.team_digest_send(now=now) == 0
    digest = TeamNotification.objects.get()
    assert "Yesterday Yara" in digest.text
    assert "Today Tom" not in digest.text and "Old Olga" not in digest.text


def test_erasing_a_customer_erases_the_thread_and_the_raw_answers(bob: object) -> None:
    from feedback.services.privacy import customer_erase, customer_export

    response = answered(email="ana@example.com")
    follow_up = response.follow_up
    contacts.contact_reply_send(follow_up=follow_up, author=bob, text="Hello Ana")
    inbound_receive(incoming(tokens.reply_address(follow_up.pk), "My phone is 600 123 456."))
    customer = response.invitation.order.customer
    exported = customer_export(customer=customer, performed_by=bob)
    assert [m["text"] for m in exported["contact_messages"]] == [
        "Hello Ana",
        "My phone is 600 123 456.",
    ]
    customer_erase(customer=customer, performed_by=bob)
    assert set(ContactMessage.objects.values_list("text", flat=True)) == {"(erased)"}
    # The raw answer, which holds the address and the text, is gone.
    assert not InboundMessage.objects.exists()
