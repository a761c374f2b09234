"""API tokens: issued in the admin, shown once, stored as a SHA-256 hash, revocable."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from feedback.models import ApiToken

# Marks our tokens in logs and secret scanners; the rest is 256 random bits.
TOKEN_MARK = "fbk_"  # noqa: S105 (a label, not a secret)
PREFIX_LENGTH = len(TOKEN_MARK) + 8
# last_used_at is written at most this often per token: one UPDATE a minute, not a request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, name: str, created_by: AbstractBaseUser | None) -> tuple[ApiToken, str]:
    """A new token and its secret: the only time the secret exists outside the client."""
    secret = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=api_token_hash(secret),
        created_by=created_by,
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke once; the first revocation time is kept."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return bool(changed)


def api_token_find(secret: str) -> ApiToken | None:
    """The token a secret belongs to, revoked or not; None for an unknown secret."""
    if not secret.startswith(TOKEN_MARK) or len(secret) > 100:
        return None
    return ApiToken.objects.filter(token_hash=api_token_hash(secret)).first()


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Record use, cheaply: skipped while the stored time is recent enough."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now
