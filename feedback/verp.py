"""Signed addresses that name one EmailLog row: the return path and the unsubscribe mailto.

`bounces@shop.example` becomes `bounces+<log id>-<signature>@shop.example` for the message
of EmailLog row <log id>, so a bounce names the message it is about and a forged or altered
one names nothing. The signature is an HMAC of the id with SECRET_KEY and a salt per
purpose (a bounce address is no unsubscribe address), written in lower-case base32: some
mail servers lower-case local parts, and base32 survives that where base64 would not.
"""

from base64 import b32encode

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string

BOUNCE = "bounce"
UNSUBSCRIBE = "unsubscribe"
# 80 bits: 16 base32 characters, short enough for any local part (64 characters at most).
SIGNATURE_LENGTH = 16


def _signature(purpose: str, log_id: int) -> str:
    digest = salted_hmac(f"feedback.verp.{purpose}", str(log_id), algorithm="sha256").digest()
    return b32encode(digest).decode().lower()[:SIGNATURE_LENGTH]


def base_address(purpose: str) -> str:
    """The configured address for this purpose, or "" when it is not configured."""
    if purpose == BOUNCE:
        return settings.BOUNCE_ADDRESS
    return settings.UNSUBSCRIBE_ADDRESS


def signed_address(purpose: str, log_id: int) -> str:
    """`local+<id>-<signature>@domain` for the configured address; "" when there is none."""
    base = base_address(purpose)
    if not base:
        return ""
    local, _at, domain = base.rpartition("@")
    return f"{local}+{log_id}-{_signature(purpose, log_id)}@{domain}"


def return_path(log_id: int) -> str:
    """The envelope sender for the message of EmailLog row `log_id`, or "" to leave it to
    the From address. Only over SMTP: a provider (anymail) bounces to its own address and
    reports through its webhook, and most providers refuse a sender of our choosing."""
    if not issubclass(import_string(settings.EMAIL_BACKEND), SmtpBackend):
        return ""
    return signed_address(BOUNCE, log_id)


class Signed:
    """What a recipient address says: not ours at all, ours and valid, or ours and forged."""

    NOT_OURS = "not_ours"
    VALID = "valid"
    FORGED = "forged"


def read_address(purpose: str, address: str) -> tuple[str, int | None]:
    """(Signed.NOT_OURS | VALID | FORGED, the EmailLog id when VALID) for a recipient.

    Ours means the configured local part with a `+` tag, at the configured domain; case is
    ignored throughout. A tag that does not verify is FORGED."""
    base = base_address(purpose)
    if not base or "@" not in address:
        return Signed.NOT_OURS, None
    local, _at, domain = base.lower().rpartition("@")
    got_local, _at, got_domain = address.strip().strip("<>").lower().rpartition("@")
    if got_domain != domain or not got_local.startswith(local + "+"):
        return Signed.NOT_OURS, None
    log_id, _dash, signature = got_local[len(local) + 1 :].partition("-")
    if not (log_id.isascii() and log_id.isdigit()) or len(log_id) > 18:
        return Signed.FORGED, None
    if not constant_time_compare(signature, _signature(purpose, int(log_id))):
        return Signed.FORGED, None
    return Signed.VALID, int(log_id)
