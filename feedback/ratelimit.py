"""Fixed-window rate limits in the shared cache (Redis in production): every web process
sees the same counts, so a token-guessing loop is stopped whichever process it hits.

Redis may be down or silent (DESIGN §4.5). Each process then counts on its own, in its
memory, and says so in the log: the limits are looser for a while, and nobody gets an
error page. Racy at the edges (two processes may both count the 31st hit as the 30th);
a limit that is off by one under load is good enough for a guessing loop."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from redis import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits on `key` per `window` seconds."""

    key: str
    limit: int
    window: int

    @property
    def bucket(self) -> str:
        return f"ratelimit:{self.key}:{int(time.time() // self.window)}"


def client_ip(request: HttpRequest) -> str:
    if settings.BEHIND_TLS_PROXY:
        # Our proxy appends the address it saw: the right-most entry cannot be forged.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def allowed(*, count: Sequence[Limit], watch: Sequence[Limit] = ()) -> bool:
    """Count one hit against each limit in `count`; True when none of those, nor any in
    `watch` (looked at, not counted), is over its limit."""
    try:
        return _allowed(caches["default"], count, watch)
    except RedisError:
        logger.warning("Redis unreachable: rate limits counted in this process only", exc_info=True)
        return _allowed(caches["local"], count, watch)


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit against `key`; True while the count stays within `limit`."""
    return allowed(count=[Limit(key, limit, window)])


def _allowed(store: BaseCache, count: Sequence[Limit], watch: Sequence[Limit]) -> bool:
    if watch:
        watched = [(limit.bucket, limit.limit) for limit in watch]
        seen = store.get_many([bucket for bucket, _ in watched])
        if any(seen.get(bucket, 0) >= most for bucket, most in watched):
            return False
    # A list, not a generator: every limit is counted, even after one is over.
    return all([_counted(store, limit) for limit in count])


def _counted(store: BaseCache, limit: Limit) -> bool:
    bucket = limit.bucket
    try:
        return store.incr(bucket) <= limit.limit  # the usual case: the window has begun
    except ValueError:
        pass
    # A new window: its bucket ends a second after it, so the next one starts from zero.
    if store.add(bucket, 1, timeout=limit.window + 1):
        return limit.limit >= 1
    try:
        return store.incr(bucket) <= limit.limit  # another request began it a moment ago
    except ValueError:  # and it ended meanwhile: this hit is the first of the next
        return True
