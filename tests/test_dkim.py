"""DKIM: with DKIM_* set, every message sent over SMTP is signed (rsa-sha256), covering the
RFC 8058 headers; the key is checked at start-up; the DNS record is printed for the admin."""

import base64
import io
import re
from datetime import timedelta
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.utils import timezone

from feedback import services
from feedback.models import Invitation
from tests.conftest import CommandProcess, Processes, process_logs, wait_for
from tests.factories import CustomerFactory, OrderFactory
from tests.smtp import SmtpSink

SELECTOR, DOMAIN = "portal2026", "tostadero-lumen.example"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def dkim_settings(settings: object, key_file: Path) -> Path:
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.DKIM_PRIVATE_KEY_FILE = str(key_file)
    return key_file


def published_record() -> str:
    """What `manage.py dkim_dns_record` prints, as one TXT value (its strings joined)."""
    out = io.StringIO()
    call_command("dkim_dns_record", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith(f"{SELECTOR}._domainkey.{DOMAIN}. IN TXT ( ")
    return "".join(re.findall(r'"([^"]*)"', line))


def dns(record: str) -> object:
    """dkimpy's DNS lookup, answered with the record we would publish."""

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return record.encode()

    return lookup


@pytest.mark.django_db
def test_the_command_prints_the_txt_record_of_the_keys_public_half(dkim_settings: Path) -> None:
    record = published_record()
    assert record.startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    key = serialization.load_pem_private_key(dkim_settings.read_bytes(), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert record.endswith(base64.b64encode(der).decode())


def test_the_command_says_what_is_missing(settings: object) -> None:
    settings.DKIM_DOMAIN = settings.DKIM_SELECTOR = settings.DKIM_PRIVATE_KEY_FILE = ""
    with pytest.raises(CommandError, match="set DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE"):
        call_command("dkim_dns_record")


def errors(ids: str) -> list[str]:
    return [str(message) for message in run_checks() if message.id == ids]


def test_start_up_refuses_a_key_that_does_not_load(settings: object, tmp_path: Path) -> None:
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.DKIM_PRIVATE_KEY_FILE = str(tmp_path / "missing.pem")
    [missing] = errors("feedback.E002")
    assert f"DKIM_PRIVATE_KEY_FILE ({tmp_path / 'missing.pem'}) cannot be read" in missing
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    settings.DKIM_PRIVATE_KEY_FILE = str(garbage)
    [bad] = errors("feedback.E002")
    assert f"DKIM_PRIVATE_KEY_FILE ({garbage}) does not hold an RSA private key" in bad
    settings.DKIM_SELECTOR = ""
    [half] = errors("feedback.E001")
    assert "DKIM is half configured: DKIM_SELECTOR not set." in half


def test_a_good_key_passes_the_check(dkim_settings: Path) -> None:
    assert errors("feedback.E002") == errors("feedback.E001") == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("all_day_window")
def test_a_sent_invitation_verifies_and_tampering_with_list_unsubscribe_breaks_it(
    dkim_settings: Path, smtp: SmtpSink, processes: Processes
) -> None:
    order = OrderFactory(customer=CustomerFactory(email="ana@example.com"))
    invitation = services.order_mark_delivered(
        order=order, delivered_at=timezone.now() - timedelta(days=10)
    )
    # A real process configured by the environment alone: the settings pick the signing
    # backend because DKIM_* are set.
    sweep: CommandProcess = processes.command(
        "dispatch_invitations",
        DKIM_DOMAIN=DOMAIN,
        DKIM_SELECTOR=SELECTOR,
        DKIM_PRIVATE_KEY_FILE=str(dkim_settings),
    )
    assert sweep.wait() == 0, process_logs(sweep)
    assert wait_for(lambda: smtp.count() == 1), process_logs(sweep)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT
    [raw] = smtp.raw
    [message] = smtp.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    signature = str(message["DKIM-Signature"])
    tags = dict(
        tag.strip().split("=", 1) for tag in re.sub(r"\s+", "", signature).split(";") if tag
    )
    assert (tags["a"], tags["d"], tags["s"]) == ("rsa-sha256", DOMAIN, SELECTOR)
    signed = tags["h"].lower().split(":")
    for header in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ):
        assert header in signed

    record = published_record()
    assert dkim.verify(raw, dnsfunc=dns(record))

    original = re.search(rb"List-Unsubscribe:\s*<([^>]+)>", raw).group(1)
    tampered = raw.replace(original, b"https://evil.example/unsubscribe", 1)
    assert tampered != raw
    assert not dkim.verify(tampered, dnsfunc=dns(record))
    body_changed = raw.replace(b"Tostadero Lumen", b"Tostadero Lumen!", 1)
    assert not dkim.verify(body_changed, dnsfunc=dns(record))
