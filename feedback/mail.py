"""The local outbox used when EMAIL_URL is unset: one .eml file per message in var/outbox/."""

import email
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from email.policy import default as default_policy
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

# The headers staff see above each message, in this order.
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe", "Message-ID")


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid4().hex[:8]}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
        return len(email_messages)


@dataclass(frozen=True)
class OutboxMessage:
    headers: list[tuple[str, str]]
    subject: str
    # None when the Date header is missing or unreadable.
    date: datetime | None
    text: str
    html: str


def outbox_messages(limit: int = 50) -> list[OutboxMessage]:
    """The newest messages in the local outbox, newest first."""
    folder = Path(getattr(settings, "EMAIL_FILE_PATH", "") or "/nonexistent")
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(email.message_from_bytes(f.read_bytes(), policy=default_policy)) for f in files]


def _read(message: ParsedMessage) -> OutboxMessage:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    date = message["Date"].datetime if message["Date"] is not None else None
    if date is not None and date.tzinfo is None:
        # "-0000", as Django writes the date: UTC, the sender's own zone unknown (RFC 5322).
        date = date.replace(tzinfo=UTC)
    return OutboxMessage(
        # Headers come decoded and unfolded, e.g. the shop's name in From as written.
        headers=[(name, str(message[name]).strip()) for name in SHOWN_HEADERS if message[name]],
        subject=str(message["Subject"] or ""),
        date=date,
        text=text.get_content() if text else "",
        html=html.get_content() if html else "",
    )
