"""Fixed-window rate limits in the shared cache (Redis in production): every web process
sees the same counts, so a token-guessing loop is stopped whichever process it hits."""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    if settings.BEHIND_TLS_PROXY:
        # Our proxy appends the address it saw: the right-most entry cannot be forged.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _bucket(key: str, window: int) -> str:
    return f"ratelimit:{key}:{int(time.time() // window)}"


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit against `key`; True while the count stays within `limit`."""
    bucket = _bucket(key, window)
    if cache.add(bucket, 1, timeout=window + 1):
        return limit >= 1
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # the bucket expired between add and incr: start it again
        cache.add(bucket, 1, timeout=window + 1)
        return True


def exceeded(key: str, *, limit: int, window: int) -> bool:
    """Has `key` already used up its hits in this window? (Does not count a hit.)"""
    return (cache.get(_bucket(key, window)) or 0) >= limit
