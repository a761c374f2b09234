"""Closing the loop, real all the way: PostgreSQL, Redis, a Celery worker process, an SMTP
server, an HTTP receiver for the chat webhook, and `manage.py receive_mail` as a process.

A customer asks to be contacted; the team hears once; staff reply from the page; the reply
carries the shop's From and a signed Reply-To; the customer's answer, piped to
receive_mail, joins the thread without its quoted history; a forged address attaches
nothing."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from feedback.models import (
    ContactMessage,
    DailySendCount,
    EmailLog,
    FollowUp,
    InboundMessage,
    Invitation,
    TeamNotification,
)
from feedback.services.contacts import followup_notify_team
from feedback.services.notify import team_notify
from tests.conftest import Processes, process_logs, service_env, wait_for
from tests.factories import CustomerFactory, InvitationFactory, OrderFactory
from tests.smtp import SmtpSink
from tests.staff import answered, member

# Their tasks must reach the workers these tests start, with these tests' settings.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_shared_worker"),
]

TEAM = "team@tostadero-lumen.example"
REPLY = "reply@tostadero-lumen.example"
CUSTOMER = "ana@example.com"
PHOTO = b"\x89PNG fake photo bytes"


class ChatReceiver:
    """A Slack-style incoming webhook: records each JSON body it is sent; answers 500 to
    the first `failures` of them."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                failing = len(receiver.bodies) <= receiver.failures
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/team"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat() -> Iterator[ChatReceiver]:
    receiver = ChatReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def loop_env(settings: object, chat: ChatReceiver) -> dict[str, str]:
    values = {"TEAM_EMAIL": TEAM, "TEAM_CHAT_WEBHOOK_URL": chat.url, "REPLY_ADDRESS": REPLY}
    for name, value in values.items():
        setattr(settings, name, value)
    return values


def customer_reply(to: str, new_text: str) -> bytes:
    """A real reply as a mail client writes it: text and HTML, each quoting the shop's
    message below the new text, and an attached photo."""
    message = EmailMessage()
    message["From"] = f"Ana Perez <{CUSTOMER}>"
    message["To"] = to
    message["Subject"] = "Re: Your order: a reply from Tostadero Lumen"
    message["Message-ID"] = "<answer-1@example.com>"
    quoted = "We are sorry about the grinder. Shall we send a new burr?"
    message.set_content(
        f"{new_text}\n\nAna\n\nOn Tue, 1 Dec 2026 at 10:00, Tostadero Lumen "
        f"<feedback@tostadero-lumen.example> wrote:\n> {quoted}\n> Best, Bob\n"
    )
    message.add_alternative(
        f"<div>{new_text}</div><div>Ana</div><div class='gmail_quote'>On Tue, 1 Dec 2026 "
        f"Tostadero Lumen wrote:<blockquote>{quoted}</blockquote></div>",
        subtype="html",
    )
    message.add_attachment(PHOTO, maintype="image", subtype="png", filename="burr.png")
    return message.as_bytes()


def receive_mail(raw: bytes, recipient: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "manage.py", "receive_mail", "--recipient", recipient],
        input=raw,
        capture_output=True,
        env=service_env(REPLY_ADDRESS=REPLY),
        timeout=60,
        check=False,
    )


def test_the_whole_loop(
    smtp: SmtpSink,
    processes: Processes,
    chat: ChatReceiver,
    loop_env: dict[str, str],
    client: Client,
) -> None:
    worker = processes.worker(**loop_env)
    worker.wait_ready()
    order = OrderFactory(customer=CustomerFactory(email=CUSTOMER, name="Ana Perez"))
    invitation = InvitationFactory(order=order)
    sent_before = (
        Invitation.objects.filter(sent_at__isnull=False).count(),
        DailySendCount.objects.count(),
    )

    # The customer answers and asks to be contacted.
    answered = client.post(
        f"/f/{invitation.token}/",
        {"rating": "2", "comment": "The burr grinder squeaks.", "contact_requested": "on"},
    )
    assert answered.status_code == 302
    follow_up = FollowUp.objects.get()
    assert wait_for(lambda: len(smtp.to(TEAM)) == 1 and len(chat.bodies) == 1), process_logs(worker)
    [team_mail] = smtp.to(TEAM)
    assert "Ana Perez" in team_mail["Subject"] and order.external_id in team_mail["Subject"]
    assert f"/staff/contacts/{follow_up.pk}/" in team_mail.get_content()
    assert "The burr grinder squeaks." in chat.bodies[0]["text"]

    # Staff reply from the contact page.
    client.force_login(member("bob", "Staff"))
    page = f"/staff/contacts/{follow_up.pk}/"
    posted = client.post(page, {"action": "reply", "text": "Sorry! A new burr is on its way."})
    assert posted.status_code == 302
    assert wait_for(lambda: len(smtp.to(CUSTOMER)) == 1), process_logs(worker)
    [reply] = smtp.to(CUSTOMER)
    assert parseaddr(reply["From"]) == ("Tostadero Lumen", "feedback@tostadero-lumen.example")
    reply_to = parseaddr(reply["Reply-To"])[1]
    assert reply_to.startswith(f"reply+{follow_up.pk}-") and reply_to.endswith(
        "@tostadero-lumen.example"
    )
    text = reply.get_body(preferencelist=("plain",)).get_content()
    assert "Sorry! A new burr is on its way." in text and "Calle del Espíritu Santo 21" in text
    assert wait_for(lambda: ContactMessage.objects.get().status == "sent"), process_logs(worker)
    log = EmailLog.objects.get(kind="reply")
    assert (log.outcome, log.message_id) == ("sent", reply["Message-ID"])
    # A reply is not an invitation: nothing an invitation counts has moved.
    assert (
        Invitation.objects.filter(sent_at__isnull=False).count(),
        DailySendCount.objects.count(),
    ) == sent_before
    html = client.get(page).content.decode()
    assert "Sorry! A new burr is on its way." in html and 'data-status="sent"' in html

    # Resolved, then the customer's answer comes back through the mail server's pipe, with
    # the address in capitals as some servers pass it: it reopens the request.
    client.post(page, {"action": "resolve", "note": "Burr posted."})
    done = receive_mail(
        customer_reply(reply_to, "Thanks, the new burr fits."), recipient=reply_to.upper()
    )
    assert done.returncode == 0, done.stderr.decode()
    inbound = InboundMessage.objects.get(message_id="<answer-1@example.com>")
    assert (inbound.kind, inbound.customer_id) == ("reply", order.customer_id)
    answer = ContactMessage.objects.get(direction="in")
    assert answer.text == "Thanks, the new burr fits.\n\nAna"
    assert answer.attachments == [{"name": "burr.png", "size": len(PHOTO), "type": "image/png"}]
    follow_up.refresh_from_db()
    assert follow_up.status == "open"
    html = client.get(page).content.decode()
    thread = html[html.index('id="log"') :]
    assert thread.index("Sorry! A new burr is on its way.") < thread.index("Burr posted.")
    assert thread.index("Burr posted.") < thread.index("Thanks, the new burr fits.")
    assert "We are sorry about the grinder" not in html
    assert "burr.png" in html and "<img" not in thread

    # A forged reply address: kept aside for staff, attached to nothing.
    forged = f"reply+{follow_up.pk}-aaaaaaaaaaaaaaaa@tostadero-lumen.example"
    done = receive_mail(customer_reply(forged, "I am not Ana."), recipient=forged)
    assert done.returncode == 0, done.stderr.decode()
    assert InboundMessage.objects.filter(kind="forged").count() == 1
    assert ContactMessage.objects.filter(direction="in").count() == 1
    assert "I am not Ana." not in client.get(page).content.decode()
    assert "Replies kept aside" in client.get("/staff/contacts/").content.decode()

    # Told once: asking again changes nothing, and nothing more arrives.
    assert followup_notify_team(follow_up=follow_up) == 0
    assert not wait_for(lambda: len(smtp.to(TEAM)) > 1 or len(chat.bodies) > 1, timeout=3)
    assert TeamNotification.objects.filter(sent_at__isnull=False).count() == 2


def test_a_failing_chat_webhook_is_retried_a_bounded_number_of_times(
    processes: Processes, chat: ChatReceiver, settings: object
) -> None:
    settings.TEAM_CHAT_WEBHOOK_URL = chat.url
    settings.TEAM_EMAIL = ""
    worker = processes.worker(
        TEAM_CHAT_WEBHOOK_URL=chat.url, NOTIFY_MAX_RETRIES="2", NOTIFY_RETRY_BACKOFF_SECONDS="1"
    )
    worker.wait_ready()
    chat.failures = 2  # fails twice, then takes it
    assert team_notify(subject="Product slipping", text="Grinder: 2.1/5 this week", key="a")
    first = TeamNotification.objects.get(key="a")

    def sent() -> bool:
        first.refresh_from_db()
        return first.sent_at is not None

    assert wait_for(sent, timeout=60), process_logs(worker)
    assert (len(chat.bodies), first.attempts) == (3, 3)
    assert "Grinder: 2.1/5 this week" in chat.bodies[-1]["text"]

    chat.failures = 99  # never takes it: three tries in all, then it stays unsent
    assert team_notify(subject="Product slipping", text="Kettle", key="b")
    second = TeamNotification.objects.get(key="b")
    assert wait_for(lambda: len(chat.bodies) == 6, timeout=60), process_logs(worker)
    assert not wait_for(lambda: len(chat.bodies) > 6, timeout=8)
    second.refresh_from_db()
    assert (second.sent_at, second.attempts) == (None, 3)
    assert "500" in second.last_error


def test_a_reply_the_mail_server_keeps_refusing_ends_not_sent_with_its_text(
    smtp: SmtpSink, processes: Processes, client: Client, settings: object
) -> None:
    settings.TEAM_EMAIL = settings.TEAM_CHAT_WEBHOOK_URL = ""
    worker = processes.worker(NOTIFY_MAX_RETRIES="1", NOTIFY_RETRY_BACKOFF_SECONDS="1")
    worker.wait_ready()
    follow_up = answered(email="busy@example.com").follow_up
    smtp.deferred.add("busy@example.com")  # 450, "try again later", every time
    client.force_login(member("bob", "Staff"))
    page = f"/staff/contacts/{follow_up.pk}/"
    client.post(page, {"action": "reply", "text": "We will call you on Monday."})
    message = ContactMessage.objects.get()

    def failed() -> bool:
        message.refresh_from_db()
        return message.status == "failed"

    assert wait_for(failed, timeout=60), process_logs(worker)
    assert EmailLog.objects.filter(kind="reply", outcome="failed").count() == 2  # two tries
    assert smtp.count() == 0
    html = client.get(page).content.decode()
    assert "not sent, try again" in html and "We will call you on Monday." in html
