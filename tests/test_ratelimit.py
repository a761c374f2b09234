"""The customer pages' rate limits: 429 with Retry-After once over a limit, decided before
the page runs; the one-click unsubscribe honoured for a real link whatever its address did;
without Redis, counted in the process. (Counts shared across processes: test_redis.py.)"""

import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from feedback.models import Customer, Invitation, Response
from tests.conftest import free_port
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def one_click(invitation: Invitation) -> object:
    """An RFC 8058 unsubscribe as a mailbox provider sends it: no cookies, no CSRF token."""
    provider = Client(enforce_csrf_checks=True)
    return provider.post(
        f"/f/{invitation.token}/stop/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )


def stopped(invitation: Invitation) -> bool:
    return Customer.objects.get(pk=invitation.customer_id).invitations_stopped_at is not None


def test_a_link_over_its_limit_gets_429_with_retry_after(client: Client, settings: object) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 3
    invitation = InvitationFactory()
    statuses = [client.get(page(invitation)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(page(invitation))
    assert limited.status_code == 429
    assert limited["Retry-After"] == str(settings.FEEDBACK_RATE_WINDOW_SECONDS)
    assert "Too many requests" in limited.content.decode()
    assert limited["Cache-Control"] == "no-store"


def test_an_address_over_its_limit_gets_429_on_every_link(client: Client, settings: object) -> None:
    settings.FEEDBACK_RATE_PER_IP = 2
    first, second, third = InvitationFactory.create_batch(3)
    statuses = [client.get(page(invitation)).status_code for invitation in (first, second, third)]
    assert statuses == [200, 200, 429]


def test_a_refused_request_reads_nothing_and_stores_nothing(
    client: Client, settings: object
) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 1
    invitation = InvitationFactory()
    assert client.get(page(invitation)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        shown = client.get(page(invitation))
        answered = client.post(page(invitation), {"action": "send", "rating": "5"})
    assert (shown.status_code, answered.status_code) == (429, 429)
    assert len(queries) == 0, [query["sql"] for query in queries]
    assert 'name="rating"' not in shown.content.decode()  # the page was not rendered
    assert not Response.objects.filter(invitation=invitation).exists()


def test_the_limit_lifts_with_the_next_window(client: Client, settings: object) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 1
    settings.FEEDBACK_RATE_WINDOW_SECONDS = 1
    invitation = InvitationFactory()
    assert client.get(page(invitation)).status_code == 200
    assert client.get(page(invitation)).status_code == 429
    time.sleep(1.05)  # the next window
    assert client.get(page(invitation)).status_code == 200


def test_an_address_blocked_for_guessing_still_unsubscribes_with_one_click(
    client: Client, settings: object
) -> None:
    settings.FEEDBACK_RATE_MISSES_PER_IP = 3
    invitation = InvitationFactory()
    guesses = [client.get(f"/f/no-such-link-{n}/").status_code for n in range(5)]
    assert guesses == [404, 404, 404, 429, 429]

    response = one_click(invitation)  # from the same address as the guesses

    assert response.status_code == 200
    assert stopped(invitation)
    assert client.get(page(invitation)).status_code == 429  # the pages stay refused
    assert client.get(f"/f/{invitation.token}/stop/").status_code == 429


def test_a_mailbox_provider_unsubscribes_many_customers_from_one_address(
    client: Client, settings: object
) -> None:
    settings.FEEDBACK_RATE_PER_IP = 2
    invitations = InvitationFactory.create_batch(5)
    assert [one_click(invitation).status_code for invitation in invitations] == [200] * 5
    assert all(stopped(invitation) for invitation in invitations)


def test_one_click_is_still_limited_per_link(settings: object) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 2
    invitation = InvitationFactory()
    assert [one_click(invitation).status_code for _ in range(3)] == [200, 200, 429]


def test_guessing_links_by_one_click_posts_is_limited_like_the_pages(
    client: Client, settings: object
) -> None:
    settings.FEEDBACK_RATE_MISSES_PER_IP = 3
    guesses = [client.post(f"/f/no-such-link-{n}/stop/").status_code for n in range(5)]
    assert guesses == [404, 404, 404, 429, 429]


@pytest.fixture
def redis_down(settings: object) -> None:
    """The shared cache on a port where nothing listens: a real connection refused."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        },
    }
    caches["local"].clear()  # the fallback's counts live as long as the process


def test_without_redis_the_pages_open_and_each_process_counts_on_its_own(
    client: Client, settings: object, redis_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings.FEEDBACK_RATE_PER_TOKEN = 2
    invitation = InvitationFactory()
    statuses = [client.get(page(invitation)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "Redis unreachable: rate limits counted in this process only" in caplog.text
