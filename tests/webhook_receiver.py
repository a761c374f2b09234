"""A real HTTP receiver of our webhooks, as a shop's tool would be: it verifies every
message with the standardwebhooks library, answers with the status codes it is told to,
records every attempt, and takes each event once (by its webhook-id)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    """One attempt as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool
    duplicate: bool = False
    payload: dict = field(default_factory=dict)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class WebhookReceiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        # Status codes for the next attempts, in order; then 200 for ever.
        self.plan: list[int] = []
        self.always: int | None = None
        self.attempts: list[Received] = []
        self.accepted: dict[str, dict] = {}  # webhook-id -> payload, each event once
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.take(dict(self.headers.items()), body)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try again later")

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def take(self, headers: dict[str, str], body: bytes) -> int:
        headers = {name.lower(): value for name, value in headers.items()}
        try:
            payload = Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = {}, False
        with self.lock:
            if not verified:
                status = 401
            elif self.always is not None:
                status = self.always
            else:
                status = self.plan.pop(0) if self.plan else 200
            seen = Received(headers, body, status, verified, payload=payload or {})
            if status < 300:
                seen.duplicate = seen.webhook_id in self.accepted
                self.accepted.setdefault(seen.webhook_id, seen.payload)
            self.attempts.append(seen)
        return status

    def of_type(self, type: str) -> list[dict]:
        with self.lock:
            return [p for p in self.accepted.values() if p.get("type") == type]

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(
        self, kind: type | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()


def body_of(received: Received) -> dict:
    return json.loads(received.body)
