"""Customers' replies to the shop's messages: the reader for feedback.services.inbound.

A staff reply carries a Reply-To signed for its contact request (feedback.tokens). What
comes back to such an address joins that request's thread: the new text only (quoted
history and signature stripped by email-reply-parser), its attachments listed by name,
size and type (they stay in the stored raw message, never served). A forged address
attaches nothing and is kept aside for staff.
"""

import html
import re
from email.message import EmailMessage
from email.utils import getaddresses

from django.utils.html import strip_tags
from email_reply_parser import EmailReplyParser

from feedback import tokens
from feedback.models import ContactMessage, FollowUp, FollowUpNote, InboundMessage, WebhookEventType
from feedback.services.webhooks import webhook_emit_contact

# Where the address the message came to may be, the envelope's first.
ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
# RFC 3676's signature separator, "-- ", which some clients send without its space.
SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)
BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|li|tr|h[1-6])>", re.IGNORECASE)
QUOTED_HTML = re.compile(r"<blockquote.*?</blockquote>", re.IGNORECASE | re.DOTALL)


def inbound_read(message: EmailMessage, record: InboundMessage) -> bool:
    """Recognise a reply to a signed reply address and attach it to its contact's thread."""
    tag = _reply_tag(message, record)
    if tag is None:
        return False
    follow_up_id = tokens.reply_address_verify(tag)
    if follow_up_id is None:
        record.kind = InboundMessage.Kind.FORGED
        record.note = (
            "Sent to a reply address whose signature does not verify: attached to nothing."
        )
        return True
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("response__invitation__order__customer")
        .filter(pk=follow_up_id)
        .first()
    )
    if follow_up is None:
        record.kind = InboundMessage.Kind.OTHER
        record.note = f"A reply about contact request {follow_up_id}, which no longer exists."
        return True
    contact_reply_receive(follow_up=follow_up, message=message, record=record)
    return True


def contact_reply_receive(
    *, follow_up: FollowUp, message: EmailMessage, record: InboundMessage
) -> ContactMessage:
    """Append the customer's reply to the thread; a resolved request opens again. Runs in
    the reader's transaction, with the follow-up's row locked."""
    reply = ContactMessage.objects.create(
        follow_up=follow_up,
        direction=ContactMessage.Direction.IN,
        status=ContactMessage.Status.RECEIVED,
        text=reply_text(message),
        attachments=attachments(message),
        inbound=record,
        created_at=record.received_at,
    )
    reopened = FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.RESOLVED).update(
        status=FollowUp.Status.OPEN, resolved_at=None
    )
    if reopened:
        FollowUpNote.objects.create(follow_up=follow_up, text="Reopened: the customer replied.")
    webhook_emit_contact(
        type=WebhookEventType.CONTACT_REPLIED,
        follow_up=follow_up,
        direction="from_customer",
        replied_at=record.received_at,
    )
    record.kind = InboundMessage.Kind.REPLY
    record.customer = follow_up.response.invitation.order.customer
    record.note = f"Reply to contact request {follow_up.pk}."
    return reply


def _reply_tag(message: EmailMessage, record: InboundMessage) -> str | None:
    candidates = [record.recipient]
    for name in ADDRESS_HEADERS:
        try:
            values = [str(value) for value in message.get_all(name, [])]
        except (ValueError, IndexError, TypeError):  # a malformed header
            continue
        candidates += [address for _name, address in getaddresses(values)]
    for address in candidates:
        tag = tokens.reply_address_tag(address) if address else None
        if tag is not None:
            return tag
    return None


def reply_text(message: EmailMessage) -> str:
    """The new text of a reply: the plain part (or the HTML part's text when there is no
    plain one), without quoted history or signature."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    if body.get_content_type() == "text/html":
        content = html_text(content)
    text = EmailReplyParser.parse_reply(content.replace("\r\n", "\n"))
    return SIGNATURE.split(text, maxsplit=1)[0].strip()


def html_text(markup: str) -> str:
    """Text from an HTML-only reply; quoted history there is a <blockquote>."""
    markup = QUOTED_HTML.sub("", markup)
    text = html.unescape(strip_tags(BLOCK_END.sub("\n", markup)))
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def attachments(message: EmailMessage) -> list[dict]:
    """Name, size and type of each attachment; the files stay in the raw message."""
    listed = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        listed.append(
            {
                "name": (part.get_filename() or "")[:200],
                "size": len(payload),
                "type": part.get_content_type(),
            }
        )
    return listed
