"""Invitation link tokens.

Each invitation holds a random 128-bit nonce. The link's token is HMAC-SHA256(SECRET_KEY,
nonce), so the same link can be sent again (the asked-for "later" email) without storing
the token, and a copy of the database alone cannot forge links. Look-ups go by the token's
SHA-256 hash, the only form of the token that is stored.
"""

import hashlib
import hmac
import secrets
from base64 import b32encode, urlsafe_b64encode

from django.conf import settings


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"invitation-link:" + nonce.encode(), hashlib.sha256
    ).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lookup_hash(token: str) -> str | None:
    """The hash to look a link's token up by; None for one no link can have (empty, or
    far longer than a token), which needs no look-up."""
    if not token or len(token) > 100:
        return None
    return token_hash(token)


def address_hash(email: str) -> str:
    """A keyed hash of a normalised address: what the suppression list keeps, so an opt-out
    outlives the erasure of the address itself, and the list alone reveals no address."""
    return hmac.new(
        settings.SECRET_KEY.encode(), b"suppressed-address:" + email.encode(), hashlib.sha256
    ).hexdigest()


# Reply addresses: REPLY_ADDRESS's local part, "+", the contact request's id and a keyed
# signature, e.g. reply+42-mfrggzdfmztwq2lk@shop.example. Base32 in lower case survives a
# mail server that changes the local part's case; the salt keeps these signatures apart
# from every other use of SECRET_KEY.
REPLY_SALT = b"contact-reply-address:"
REPLY_SIGNATURE_LENGTH = 16


def _reply_signature(follow_up_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), REPLY_SALT + str(follow_up_id).encode(), hashlib.sha256
    ).digest()
    return b32encode(digest).decode().lower()[:REPLY_SIGNATURE_LENGTH]


def reply_address(follow_up_id: int) -> str:
    """The signed Reply-To for a contact request; "" when REPLY_ADDRESS is unset."""
    local, at, domain = settings.REPLY_ADDRESS.rpartition("@")
    if not at:
        return ""
    return f"{local}+{follow_up_id}-{_reply_signature(follow_up_id)}@{domain}"


def reply_address_tag(address: str) -> str | None:
    """The part after "+" when `address` is one of our reply addresses (any case), else
    None: whether it is signed correctly is reply_address_verify's question."""
    local, at, domain = settings.REPLY_ADDRESS.lower().rpartition("@")
    candidate_local, candidate_at, candidate_domain = address.strip("<> ").lower().rpartition("@")
    if not at or not candidate_at or candidate_domain != domain:
        return None
    base, plus, tag = candidate_local.partition("+")
    return tag if plus and base == local else None


def reply_address_verify(tag: str) -> int | None:
    """The contact request's id a reply tag was signed for, or None for a forged tag."""
    number, dash, signature = tag.partition("-")
    if not dash or not number.isdigit() or len(number) > 18:
        return None
    if not hmac.compare_digest(signature.lower(), _reply_signature(int(number))):
        return None
    return int(number)
