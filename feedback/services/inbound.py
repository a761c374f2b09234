"""Everything that comes back by mail has one way in: `inbound_receive`.

The mail server pipes a message to `manage.py receive_mail`, or a provider posts it to
anymail's inbound webhook; both land here. The message is stored whole first (nothing is
ever lost), then each reader in `READERS` looks at it in turn; the first that recognises it
says what it was (a bounce, a complaint, an unsubscribe, a customer's reply). What nobody
recognises stays for staff to read; nothing is ever answered automatically.
"""

import logging
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.db import transaction

from feedback.models import InboundMessage
from feedback.services import bounces, replies

log = logging.getLogger(__name__)

# A reader gets the parsed message and its stored record; it returns True when it
# recognised the message (and has set the record's kind and note), else False.
Reader = Callable[[EmailMessage, InboundMessage], bool]
READERS: tuple[Reader, ...] = (bounces.inbound_read, replies.inbound_read)


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def _header(message: EmailMessage, name: str, limit: int) -> str:
    try:
        value = message.get(name, "")
    except (ValueError, IndexError, TypeError):  # a malformed header is not our failure
        return ""
    return " ".join(str(value).split())[:limit]


def inbound_receive(
    raw: bytes, *, channel: str = InboundMessage.Channel.PIPE, recipient: str = ""
) -> InboundMessage:
    """Store one RFC 5322 message, then read it. `recipient` is the envelope recipient
    when the mail server passes it (the address the message was delivered to)."""
    message = parse(raw)
    recipient = recipient or _header(message, "Delivered-To", 320) or _header(message, "To", 320)
    record = InboundMessage.objects.create(
        channel=channel,
        recipient=recipient.strip("<> ")[:320],
        sender=_header(message, "From", 320),
        subject=_header(message, "Subject", 300),
        message_id=_header(message, "Message-ID", 255),
        raw=raw,
    )
    for read in READERS:
        try:
            with transaction.atomic():
                if read(message, record):
                    record.save()
                    return record
        except Exception as exc:  # a reader's bug must not lose the message: staff see it
            log.exception("inbound message %s: %s failed", record.pk, read.__module__)
            record.note = f"Could not be read automatically ({type(exc).__name__}); kept for staff."
            break
    record.kind = InboundMessage.Kind.OTHER
    record.save()
    return record
