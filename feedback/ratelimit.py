"""Fixed-window rate limits in the shared cache (Redis in production): every web process
sees the same counts, so a token-guessing loop is stopped whichever process it hits."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from redis import Redis


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
    `watch` (looked at, not counted), is over its limit. One round trip on Redis."""
    return start(count=count, watch=watch).allowed()


class Verdict:
    """Hits sent to the cache, answered when first asked: the caller may do other work
    (a database read) while Redis counts. Always ask: until then the Redis connection
    stays out of its pool."""

    def __init__(self, read: Callable[[], bool]) -> None:
        self._read: Callable[[], bool] | None = read
        self._allowed = False

    def allowed(self) -> bool:
        if self._read is not None:
            read, self._read = self._read, None
            self._allowed = read()
        return self._allowed


def start(*, count: Sequence[Limit], watch: Sequence[Limit] = ()) -> Verdict:
    """Like allowed(), but returns at once; the answer is read by Verdict.allowed()."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return Verdict(_send_to_redis(backend, count, watch))
    if any((cache.get(limit.bucket) or 0) >= limit.limit for limit in watch):
        return Verdict(lambda: False)
    verdict = all([hit(limit.key, limit=limit.limit, window=limit.window) for limit in count])
    return Verdict(lambda: verdict)


_clients: dict[int, Redis] = {}


def _client(backend: RedisCache) -> Redis:
    """A client on the cache's own connection pool, made once per pool: Django's
    get_client() builds a new one per call, which costs more than the round trip."""
    pool = backend._cache._get_connection_pool(write=True)
    if id(pool) not in _clients:
        _clients[id(pool)] = backend._cache.get_client(write=True)
    return _clients[id(pool)]


# One command for every limit of a request: look at the watched buckets, count the others
# (a new bucket expires with its window), and answer 1 if none is over its limit. KEYS:
# watched buckets, then counted ones; ARGV: how many are watched, each key's limit, then
# each counted key's expiry. A script is atomic, and one command is cheaper to send and
# answer than five.
_SCRIPT = b"""
local watched = tonumber(ARGV[1])
local allowed = 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + i])
  if i <= watched then
    if tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then allowed = 0 end
  else
    local hits = redis.call('INCR', KEYS[i])
    if hits == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1 + #KEYS + i - watched]) end
    if hits > limit then allowed = 0 end
  end
end
return allowed
"""


def _send_to_redis(
    backend: RedisCache, count: Sequence[Limit], watch: Sequence[Limit]
) -> Callable[[], bool]:
    """Send the script's one command and return the function that reads its answer.
    Django's RedisCache stores integers as plain Redis integers, so INCR applies to the
    values cache.get() reads, and the keys are the cache's own."""
    limits = [*watch, *count]
    keys = [backend.make_and_validate_key(limit.bucket) for limit in limits]
    expiries = [limit.window + 1 for limit in count]
    args = [len(watch), *(limit.limit for limit in limits), *expiries]
    pool = _client(backend).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_command("EVAL", _SCRIPT, len(keys), *keys, *args)
    except BaseException:
        connection.disconnect()
        pool.release(connection)
        raise

    def read() -> bool:
        try:
            return connection.read_response() == 1
        except BaseException:
            connection.disconnect()  # the reply may be left unread: never reuse it
            raise
        finally:
            pool.release(connection)

    return read


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit against `key`; True while the count stays within `limit`."""
    bucket = Limit(key, limit, window).bucket
    if cache.add(bucket, 1, timeout=window + 1):
        return limit >= 1
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # the bucket expired between add and incr: start it again
        cache.add(bucket, 1, timeout=window + 1)
        return True
