"""What the bounce tests share: an invitation really sent over SMTP with a signed return
path, and the mail that comes back about it, piped into a real `receive_mail` process."""

import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from feedback import services
from feedback.models import Customer, EmailLog, Invitation
from tests.conftest import ROOT, service_env
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mail"
BOUNCE_ADDRESS = "bounces@tostadero-lumen.example"
UNSUBSCRIBE_ADDRESS = "unsubscribe@tostadero-lumen.example"


def use_return_paths(settings: object) -> None:
    settings.BOUNCE_ADDRESS = BOUNCE_ADDRESS
    settings.UNSUBSCRIBE_ADDRESS = UNSUBSCRIBE_ADDRESS


@dataclass
class Sent:
    invitation: Invitation
    log: EmailLog
    verp: str  # the envelope sender the sink saw
    unsubscribe: str  # the mailto address in List-Unsubscribe
    message_id: str


def deliver(email: str, *, days_ago: int = 10) -> Invitation:
    customer = Customer.objects.filter(email=email).first() or CustomerFactory(email=email)
    order = OrderFactory(customer=customer)
    delivered_at = timezone.now() - timedelta(days=days_ago)
    return services.order_mark_delivered(order=order, delivered_at=delivered_at)


def send_invitation(email: str, smtp: SmtpSink) -> Sent:
    """Deliver an order to `email` and send its invitation to the sink, in this process."""
    invitation = deliver(email)
    services.invitation_send_batch(invitation_ids=[invitation.pk])
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT, invitation.last_error
    [message] = smtp.to(email)
    mailto = [
        part.strip(" <>")[len("mailto:") :]
        for part in message["List-Unsubscribe"].split(",")
        if "mailto:" in part
    ]
    return Sent(
        invitation=invitation,
        log=EmailLog.objects.get(invitation=invitation),
        verp=smtp.envelope_sender(email),
        unsubscribe=mailto[0] if mailto else "",
        message_id=message["Message-ID"],
    )


def fixture(name: str, sent: Sent, **replace: str) -> bytes:
    """A message from tests/fixtures/mail/ about `sent`; `replace` overrides a placeholder."""
    values = {
        "VERP": sent.verp,
        "RECIPIENT": sent.invitation.customer.email,
        "MESSAGE_ID": sent.message_id,
        "UNSUBSCRIBE": sent.unsubscribe,
        **replace,
    }
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode()


def receive_mail(raw: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    """Pipe one message into a real `manage.py receive_mail`, as a mail server does."""
    done = subprocess.run(
        [sys.executable, "manage.py", "receive_mail", *args],
        input=raw,
        capture_output=True,
        cwd=ROOT,
        env=service_env(BOUNCE_ADDRESS=BOUNCE_ADDRESS, UNSUBSCRIBE_ADDRESS=UNSUBSCRIBE_ADDRESS),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done
