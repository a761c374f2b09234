"""The invitation email: neutral, complete, in the customer's language."""

import email
import re
from email.policy import default as default_policy

import pytest
from django.test import Client
from django.utils import timezone

from feedback import emails, tokens
from feedback.models import Invitation
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Words that push: incentives, star nudging, gating ("if you were happy…").
PUSHY = re.compile(
    r"\b(stars?|5/5|happy|love|reward|discount|coupon|voucher|win|prize|don't forget|"
    r"last chance|hurry|estrellas?|contento|encant|descuento|cup[oó]n|premio|no olvides|"
    r"última oportunidad)",
    re.IGNORECASE,
)


def message_for(locale: str = "en", kind: str = "invitation") -> tuple[Invitation, object]:
    customer = CustomerFactory(locale=locale, name="Ana")
    order = OrderFactory(customer=customer, delivered_at=timezone.now())
    invitation = InvitationFactory(order=order)
    message = emails.invitation_message(invitation, kind=kind, message_id="<m1@testserver>")
    return invitation, message


def bodies(message: object) -> tuple[str, str]:
    return message.body, message.alternatives[0].content


def test_it_lists_the_items_the_expiry_and_every_choice() -> None:
    invitation, message = message_for()
    text, html = bodies(message)
    token = tokens.token_for(invitation.token_nonce)
    for body in (text, html):
        for item in invitation.order.items.all():
            assert item.name in body
        for path in ("", "later/", "no-thanks/", "stop/"):
            assert f"http://testserver/f/{token}/{path}" in body
        assert invitation.expires_at.strftime("%Y") in body
    assert "The link works until" in text
    assert message.subject == f"How was your order {invitation.order.external_id}?"


def test_an_order_id_or_name_with_markup_characters_reads_as_written() -> None:
    customer = CustomerFactory(name="Ana & Bo <Shop>")
    order = OrderFactory(customer=customer, external_id="A&B-<7>", delivered_at=timezone.now())
    invitation = InvitationFactory(order=order)
    message = emails.invitation_message(invitation, kind="invitation", message_id="<m@t>")
    text, html = bodies(message)
    assert message.subject == "How was your order A&B-<7>?"
    assert "Hello Ana & Bo <Shop>," in text and "A&B-<7>" in text
    assert "A&amp;B-&lt;7&gt;" in html and "<7>" not in html


def test_it_carries_one_click_unsubscribe_headers() -> None:
    invitation, message = message_for()
    token = tokens.token_for(invitation.token_nonce)
    headers = message.message()
    assert headers["List-Unsubscribe"] == f"<http://testserver/f/{token}/stop/>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == "<m1@testserver>"


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("kind", ["invitation", "later"])
def test_it_never_pushes(locale: str, kind: str) -> None:
    _invitation, message = message_for(locale, kind)
    for body in (message.subject, *bodies(message)):
        assert not PUSHY.search(body), PUSHY.search(body)


def test_it_speaks_spanish_to_a_spanish_customer() -> None:
    invitation, message = message_for("es")
    text, html = bodies(message)
    assert message.subject == f"¿Qué tal tu pedido {invitation.order.external_id}?"
    assert "Hola, Ana:" in text
    assert "Pregúntame más tarde" in html
    assert "No quiero más invitaciones a opinar" in text
    assert "El enlace funciona hasta el" in text


def test_the_later_email_says_it_is_the_only_one() -> None:
    _invitation, message = message_for(kind="later")
    assert message.subject.startswith("As you asked")
    assert "This is the only time we will ask." in message.body


@pytest.mark.parametrize(
    ("locale", "name"),
    [("en", "Ana"), ("es", "José Ñúñez"), ("en", "A very long name " * 6)],
)
def test_a_mail_client_reads_the_headers_and_both_parts(locale: str, name: str) -> None:
    customer = CustomerFactory(locale=locale, name=name)
    invitation = InvitationFactory(order=OrderFactory(customer=customer))
    message = emails.invitation_message(invitation, kind="invitation", message_id="<m1@t>")
    received = email.message_from_bytes(message.message().as_bytes(), policy=default_policy)
    token = tokens.token_for(invitation.token_nonce)
    assert received["Subject"] == message.subject
    assert received["To"] == customer.email
    assert received["Message-ID"] == "<m1@t>"
    # A long header is folded; unfolded, it reads as it was set.
    assert received["List-Unsubscribe"].strip() == f"<http://testserver/f/{token}/stop/>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_body(("plain",)).get_content() == message.body
    assert received.get_body(("html",)).get_content() == message.alternatives[0].content
    assert name.split()[0] in received.get_body(("plain",)).get_content()


def test_the_subject_on_the_wire_shows_markup_characters_as_written() -> None:
    order = OrderFactory(external_id="A&B-<7>", delivered_at=timezone.now())
    invitation = InvitationFactory(order=order)
    message = emails.invitation_message(invitation, kind="invitation", message_id="<m@t>")
    assert b"\nSubject: How was your order A&B-<7>?\n" in message.message().as_bytes()


def test_every_link_opens_its_page(client: Client) -> None:
    invitation, message = message_for()
    text, html = bodies(message)
    links = emails.invitation_links(invitation)
    assert set(links) == {"answer", "later", "decline", "stop"}
    for link in links.values():
        assert link in text and link in html
        response = client.get(link.removeprefix("http://testserver"))
        assert response.status_code == 200, link
