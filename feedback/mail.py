"""The local outbox used when EMAIL_URL is unset: one .eml file per message in var/outbox/."""

import email
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid4().hex[:8]}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
        return len(email_messages)


def outbox_messages(limit: int = 50) -> list[Message]:
    """The newest messages in the local outbox, newest first."""
    folder = Path(getattr(settings, "EMAIL_FILE_PATH", "") or "/nonexistent")
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [email.message_from_bytes(f.read_bytes(), policy=default_policy) for f in files]
