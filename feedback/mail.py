"""The local outbox used when EMAIL_URL is unset (one .eml file per message in var/outbox/),
and the SMTP backend that signs every message with DKIM when DKIM_* are set."""

import email
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from email.policy import default as default_policy
from pathlib import Path
from uuid import uuid4

import dkim
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
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


# DKIM ------------------------------------------------------------------------------------

# What the signature covers. RFC 8058 asks for both List-Unsubscribe headers; a header a
# message lacks is signed as absent, so nobody can add it on the way.
DKIM_HEADERS = [
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
]


def dkim_private_key() -> bytes:
    return Path(settings.DKIM_PRIVATE_KEY_FILE).read_bytes()


def dkim_sign(message: bytes, *, private_key: bytes | None = None) -> bytes:
    """The message with its DKIM-Signature header first (rsa-sha256, relaxed/relaxed)."""
    signature = dkim.sign(
        message,
        settings.DKIM_SELECTOR.encode(),
        settings.DKIM_DOMAIN.encode(),
        private_key if private_key is not None else dkim_private_key(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=DKIM_HEADERS,
    )
    return signature + message


class _DkimSigning:
    """smtplib's sendmail, signing the exact bytes it hands to the server."""

    def sendmail(
        self,
        from_addr: str,
        to_addrs: list[str],
        msg: bytes | str,
        mail_options: tuple = (),
        rcpt_options: tuple = (),
    ) -> dict:
        data = msg.encode() if isinstance(msg, str) else msg
        return super().sendmail(from_addr, to_addrs, dkim_sign(data), mail_options, rcpt_options)


class DkimSMTP(_DkimSigning, smtplib.SMTP):
    pass


class DkimSMTP_SSL(_DkimSigning, smtplib.SMTP_SSL):
    pass


class DkimSmtpEmailBackend(SmtpEmailBackend):
    """Django's SMTP backend, with every message DKIM-signed (settings: DKIM_DOMAIN,
    DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE; portal/settings.py selects it).

    Why here: the signature must cover the bytes that go on the wire, and Django renders
    them inside its private `_send` (message().as_bytes(linesep="\\r\\n")), so signing a
    message() of our own could differ (Date, folding). `connection_class` is the backend's
    public hook for the smtplib class it talks through; its sendmail() receives exactly those
    bytes, from any message (invitations, password resets), with nothing else overridden."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return DkimSMTP_SSL if self.use_ssl else DkimSMTP
