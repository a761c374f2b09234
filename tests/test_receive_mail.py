"""`manage.py receive_mail`: one message on standard input, stored whole before it is read;
what nobody recognises stays for staff, and a message that cannot be stored is the mail
server's to retry (exit 75), never lost."""

import subprocess
import sys

import pytest

from feedback.models import InboundMessage
from feedback.services.inbound import inbound_receive
from tests.conftest import service_env

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = b"""\
From: Ana Perez <ana@example.com>
To: feedback@tostadero-lumen.example
Subject: Do you ship to Portugal?
Message-ID: <q1@example.com>
Content-Type: text/plain; charset=utf-8

Hello, do you ship to Portugal? Thanks, Ana
"""


def run(raw: bytes, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "manage.py", "receive_mail", *args],
        input=raw,
        capture_output=True,
        env=service_env(**env),
        timeout=60,
        check=False,
    )


def test_a_message_nobody_recognises_is_kept_whole_for_staff() -> None:
    done = run(QUESTION, "--recipient", "feedback@tostadero-lumen.example")
    assert done.returncode == 0, done.stderr.decode()
    kept = InboundMessage.objects.get()
    assert kept.kind == InboundMessage.Kind.OTHER
    assert kept.subject == "Do you ship to Portugal?"
    assert kept.sender == "Ana Perez <ana@example.com>"
    assert kept.recipient == "feedback@tostadero-lumen.example"
    assert bytes(kept.raw) == QUESTION


def test_an_empty_input_is_refused_with_a_clear_message() -> None:
    done = run(b"")
    assert done.returncode == 65
    assert b"no message on standard input" in done.stderr
    assert not InboundMessage.objects.exists()


def test_a_database_that_does_not_answer_asks_the_mail_server_to_retry() -> None:
    done = run(QUESTION, DATABASE_URL="postgres://postgres@127.0.0.1:1/feedback")
    assert done.returncode == 75, done.stderr.decode()
    assert b"try later" in done.stderr


def test_a_reader_that_fails_does_not_lose_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: object, record: object) -> bool:
        raise RuntimeError("bug")

    monkeypatch.setattr("feedback.services.inbound.READERS", (broken,))
    record = inbound_receive(QUESTION)
    record.refresh_from_db()
    assert record.kind == InboundMessage.Kind.OTHER
    assert "kept for staff" in record.note
