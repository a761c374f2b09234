"""Invitation emails and staff replies, each from three templates: subject, text, HTML."""

import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback import tokens, verp
from feedback.models import ContactMessage, Invitation, OrderItem
from feedback.rules import customer_zone
from feedback.shop import from_address, shop_identity

# The customer's choices, each a page of its own (a GET never changes anything).
CHOICES = {"answer": "page", "later": "later", "decline": "decline", "stop": "stop"}


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL + path


def shop_context() -> dict[str, object]:
    """The shop's identity for an email's header and footer (templates/emails/shop-*)."""
    shop = shop_identity()
    # Mail clients need the whole URL; it is the portal's own (no third party).
    return {"shop": shop, "logo_url": absolute(shop.logo_path) if shop.logo_path else ""}


def invitation_links(invitation: Invitation) -> dict[str, str]:
    kwargs = {"token": tokens.token_for(invitation.token_nonce)}
    return {
        key: absolute(reverse(f"feedback:{name}", kwargs=kwargs)) for key, name in CHOICES.items()
    }


def invitation_link(invitation: Invitation) -> str:
    return invitation_links(invitation)["answer"]


def new_message_id(invitation: Invitation, *, kind: str) -> str:
    """Our Message-ID: it names the invitation and the kind of email (a bounce or a
    complaint quoting it leads back to them), plus random bits that keep it unique."""
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"
    return f"<invitation-{invitation.pk}.{kind}.{secrets.token_hex(8)}@{domain}>"


def invitation_message(
    invitation: Invitation,
    *,
    kind: str,
    message_id: str,
    items: Sequence[OrderItem] | None = None,
    email_log_id: int | None = None,
) -> AnymailMessage:
    """The invitation's email; `items` are its order's, when the caller has them already
    (a send batch reads all of its orders' items in one query). `email_log_id`, the
    EmailLog row of this attempt, names the message in its signed return path and
    unsubscribe address (BOUNCE_ADDRESS) and goes in the provider's metadata
    (django-anymail), so a provider's event (delivered, bounced, complained) finds its row."""
    customer = invitation.customer
    links = invitation_links(invitation)
    context = {
        **shop_context(),
        "customer": customer,
        "order": invitation.order,
        "items": invitation.order.items.all() if items is None else items,
        "links": links,
        "expires_at": invitation.expires_at,
        "kind": kind,
    }
    # One language and one time zone for the whole message: its three parts and the date.
    with (
        translation.override(customer.locale),
        timezone.override(customer_zone(customer.time_zone)),
    ):
        subject = render_to_string("emails/invitation-subject.txt", context)
        text = render_to_string("emails/invitation-body-text.txt", context)
        html = render_to_string("emails/invitation-body-html.html", context)
    # RFC 8058 one-click unsubscribe: mail clients POST to the URL; older ones write to
    # the mailto address (RFC 2369), which receive_mail reads.
    unsubscribe = [f"<{links['stop']}>"]
    return_path = ""
    metadata = {"invitation": str(invitation.pk)}
    if email_log_id is not None:
        metadata["email_log"] = str(email_log_id)
        if mailto := verp.signed_address(verp.UNSUBSCRIBE, email_log_id):
            unsubscribe.append(f"<mailto:{mailto}>")
        return_path = verp.return_path(email_log_id)
    message = AnymailMessage(
        subject=" ".join(subject.split()),
        body=text,
        # The SMTP backend gives from_email as the envelope sender: the signed return path
        # when there is one, so bounces come back naming this message.
        from_email=return_path or from_address(),
        to=[customer.email],
        headers={
            "From": from_address(),
            "Message-ID": message_id,
            "List-Unsubscribe": ", ".join(unsubscribe),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        metadata=metadata,
    )
    message.attach_alternative(html, "text/html")
    return message


def reply_message(reply: ContactMessage, *, message_id: str) -> EmailMultiAlternatives:
    """A staff member's reply to a contact request, under the shop's name, in the
    customer's language, with a Reply-To signed for this request (REPLY_ADDRESS), so the
    customer's answer comes back into the thread."""
    follow_up = reply.follow_up
    order = follow_up.response.invitation.order
    customer = order.customer
    shop = shop_identity()
    context = {
        "shop": shop,
        "logo_url": absolute(shop.logo_path) if shop.logo_path else "",
        "customer": customer,
        "order": order,
        "text": reply.text,
    }
    with translation.override(customer.locale):
        subject = render_to_string("emails/reply-subject.txt", context)
        text = render_to_string("emails/reply-body-text.txt", context)
        html = render_to_string("emails/reply-body-html.html", context)
    reply_to = tokens.reply_address(follow_up.pk)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=from_address(),
        to=[customer.email],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id},
    )
    message.attach_alternative(html, "text/html")
    return message
