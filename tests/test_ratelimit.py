"""The shared rate limits: one round trip, answered late, never leaving a connection out."""

import time

import pytest
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from feedback import ratelimit
from feedback.views.customer import customer_page

pytestmark = pytest.mark.integration  # Redis


def in_use() -> int:
    pool = ratelimit._client(caches["default"]).connection_pool
    return len(pool._in_use_connections)


def test_counts_are_sent_at_once_and_the_verdict_read_later() -> None:
    limit = ratelimit.Limit("test:late", limit=2, window=60)
    verdicts = [ratelimit.start(count=[limit]) for _ in range(3)]
    # Three counts are on their way; each holds its connection until asked.
    assert in_use() == 3
    assert [verdict.allowed() for verdict in verdicts] == [True, True, False]
    assert [verdict.allowed() for verdict in verdicts] == [True, True, False]  # asked again
    assert in_use() == 0


def test_a_watched_limit_refuses_without_being_counted() -> None:
    misses = ratelimit.Limit("test:misses", limit=1, window=60)
    other = ratelimit.Limit("test:other", limit=10, window=60)
    assert ratelimit.allowed(count=[other], watch=[misses])
    ratelimit.hit(misses.key, limit=misses.limit, window=misses.window)
    assert not ratelimit.allowed(count=[other], watch=[misses])
    assert caches["default"].get(misses.bucket) == 1


def test_a_page_that_fails_still_gives_its_redis_connection_back() -> None:
    @customer_page
    def broken(request: HttpRequest, token: str) -> HttpResponse:
        raise RuntimeError("the page broke")

    with pytest.raises(RuntimeError, match="the page broke"):
        broken(RequestFactory().get("/f/some-token/"), "some-token")
    assert in_use() == 0


def test_a_counted_bucket_ends_with_its_window_and_the_limit_lifts() -> None:
    backend = caches["default"]
    limit = ratelimit.Limit("test:window", limit=1, window=1)
    assert ratelimit.allowed(count=[limit])
    key = backend.make_and_validate_key(limit.bucket)
    assert 0 < ratelimit._client(backend).ttl(key) <= 2  # the window, plus a second
    assert not ratelimit.allowed(count=[limit])
    time.sleep(1.05)  # the next window
    assert ratelimit.allowed(count=[limit])
