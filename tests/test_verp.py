"""Signed return paths and unsubscribe addresses: each names one EmailLog row; a forged or
altered one names nothing, whatever case a mail server gives it back in."""

import pytest

from feedback import verp
from feedback.verp import Signed


@pytest.fixture(autouse=True)
def addresses(settings: object) -> None:
    settings.BOUNCE_ADDRESS = "bounces@tostadero-lumen.example"
    settings.UNSUBSCRIBE_ADDRESS = "unsubscribe@tostadero-lumen.example"


def test_it_signs_the_log_id_into_the_return_path() -> None:
    address = verp.signed_address(verp.BOUNCE, 1234)
    local, _at, domain = address.partition("@")
    assert domain == "tostadero-lumen.example"
    assert local.startswith("bounces+1234-")
    assert len(local) <= 64  # RFC 5321's limit for a local part
    assert verp.read_address(verp.BOUNCE, address) == (Signed.VALID, 1234)


def test_it_survives_a_mail_server_that_changes_the_case() -> None:
    address = verp.signed_address(verp.BOUNCE, 77)
    assert verp.read_address(verp.BOUNCE, address.upper()) == (Signed.VALID, 77)
    assert verp.read_address(verp.BOUNCE, f"<{address}>") == (Signed.VALID, 77)


def test_a_forged_or_altered_signature_names_nothing() -> None:
    address = verp.signed_address(verp.BOUNCE, 77)
    local, _at, domain = address.partition("@")
    signature = local.rpartition("-")[2]
    altered = local[:-1] + ("a" if local[-1] != "a" else "b")
    assert verp.read_address(verp.BOUNCE, f"{altered}@{domain}") == (Signed.FORGED, None)
    # The same signature under another id: the id is what is signed.
    other = f"bounces+78-{signature}@{domain}"
    assert verp.read_address(verp.BOUNCE, other) == (Signed.FORGED, None)
    assert verp.read_address(verp.BOUNCE, f"bounces+x-{signature}@{domain}")[0] == Signed.FORGED
    assert verp.read_address(verp.BOUNCE, f"bounces+77@{domain}") == (Signed.FORGED, None)


def test_a_bounce_address_is_no_unsubscribe_address() -> None:
    bounce_local = verp.signed_address(verp.BOUNCE, 5).partition("@")[0]
    tag = bounce_local.partition("+")[2]
    unsubscribe = f"unsubscribe+{tag}@tostadero-lumen.example"
    assert verp.read_address(verp.UNSUBSCRIBE, unsubscribe) == (Signed.FORGED, None)


def test_other_addresses_are_not_ours(settings: object) -> None:
    assert verp.read_address(verp.BOUNCE, "ana@example.com") == (Signed.NOT_OURS, None)
    assert verp.read_address(verp.BOUNCE, "bounces+1-abc@elsewhere.example")[0] == "not_ours"
    assert verp.read_address(verp.BOUNCE, "bounces@tostadero-lumen.example")[0] == "not_ours"
    settings.BOUNCE_ADDRESS = ""
    assert verp.signed_address(verp.BOUNCE, 1) == ""
    assert verp.read_address(verp.BOUNCE, "bounces+1-x@tostadero-lumen.example")[0] == "not_ours"


def test_a_return_address_with_its_own_tag_is_refused_at_start_up(settings: object) -> None:
    from feedback.checks import return_address_check

    assert return_address_check(None) == []
    settings.BOUNCE_ADDRESS = "bounces+x@tostadero-lumen.example"
    [error] = return_address_check(None)
    assert error.id == "feedback.E016"
    assert "BOUNCE_ADDRESS" in error.msg


@pytest.mark.django_db
def test_a_provider_keeps_its_own_return_path_but_the_mailto_stays(settings: object) -> None:
    from feedback.emails import invitation_message
    from tests.factories import InvitationFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # not SMTP
    message = invitation_message(
        InvitationFactory(), kind="invitation", message_id="<m@testserver>", email_log_id=9
    )
    assert message.from_email == "Tostadero Lumen <feedback@tostadero-lumen.example>"
    assert "<mailto:unsubscribe+9-" in message.extra_headers["List-Unsubscribe"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    message = invitation_message(
        InvitationFactory(), kind="invitation", message_id="<m@testserver>", email_log_id=9
    )
    assert message.from_email.startswith("bounces+9-")
    assert message.extra_headers["From"] == "Tostadero Lumen <feedback@tostadero-lumen.example>"
