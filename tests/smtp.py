"""A real SMTP server (aiosmtpd) for tests: it receives messages over the wire."""

import asyncio
import email
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_EHLO(
        self, server: object, session: object, envelope: object, hostname: str, responses: list
    ) -> list:
        with self.sink.lock:
            self.sink.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: list
    ) -> str:
        if address in self.sink.refused:
            return "550 5.1.1 no such user"
        if address in self.sink.deferred:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.sink.refused_data & set(envelope.rcpt_tos):
            return "554 5.7.1 message refused: content rejected"
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.sink.raw.append(envelope.original_content or envelope.content)
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 OK"


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        # (envelope sender, envelope recipients) of each message, as MAIL FROM / RCPT TO
        # gave them: the return path bounces go back to.
        self.envelopes: list[tuple[str, list[str]]] = []
        # Each message's bytes as they came over the wire (e.g. to verify a DKIM signature).
        self.raw: list[bytes] = []
        self.connections = 0
        # Recipients this server refuses at RCPT, before any data is sent: for good (550),
        # or for now (450).
        self.refused: set[str] = set()
        self.deferred: set[str] = set()
        # Recipients whose message this server refuses for good after DATA (554).
        self.refused_data: set[str] = set()
        # Seconds to wait after taking a message before saying "250 OK" (a slow server).
        self.delay = 0.0
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
            self.refused_data.clear()
            self.raw.clear()
            self.refused.clear()
            self.deferred.clear()
            self.connections = 0
            self.delay = 0.0

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]

    def envelope_sender(self, address: str) -> str:
        """The envelope sender (MAIL FROM) of the one message to this address."""
        with self.lock:
            [sender] = [mail_from for mail_from, to in self.envelopes if address in to]
        return sender
