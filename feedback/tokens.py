"""Invitation link tokens.

Each invitation holds a random 128-bit nonce. The link's token is HMAC-SHA256(SECRET_KEY,
nonce), so the same link can be sent again (the asked-for "later" email) without storing
the token, and a copy of the database alone cannot forge links. Look-ups go by the token's
SHA-256 hash, the only form of the token that is stored.
"""

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

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
