"""Customers' replies to the shop's messages: the reader for feedback.services.inbound."""

from email.message import EmailMessage

from feedback.models import InboundMessage


def inbound_read(message: EmailMessage, record: InboundMessage) -> bool:
    """Recognise a reply to a signed reply address and attach it to its contact's thread."""
    return False
