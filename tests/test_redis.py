"""Redis is shared by every web process, and needed by none (DESIGN §4.5).

Each test runs the portal as real web processes (`manage.py runserver`, production
settings, DEBUG off) on the test database, and speaks to them over HTTP."""

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client

from feedback.models import Customer, Response
from feedback.services import api_tokens
from tests.conftest import (
    ROOT,
    CommandProcess,
    Processes,
    free_port,
    process_logs,
    require_services,
    wait_for,
)
from tests.factories import InvitationFactory
from tests.silent_server import SilentServer
from tests.staff import member

# The database must be committed for the web processes to see the test's rows.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Every answer, with Redis refused or silent, well within what a customer will wait for
# (a silent Redis costs a request one REDIS_TIMEOUT_SECONDS, 0.5 s by default).
BUDGET_SECONDS = 3


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VAR_DIR with the static files collected, as a deployment has it: with DEBUG off,
    pages name their static files through collectstatic's manifest."""
    require_services()  # before the work: this fixture is set up ahead of the skip
    path = tmp_path_factory.mktemp("var")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "VAR_DIR": str(path)}
    env.update(DEBUG="0", SECRET_KEY="collectstatic-only-" + "x" * 40)
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=180)
    return path


class Portal:
    """A real web process on its own port."""

    def __init__(self, processes: Processes, var_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: CommandProcess = processes.command(
            "runserver",
            "--noreload",
            "--skip-checks",
            f"127.0.0.1:{self.port}",
            VAR_DIR=str(var_dir),
            ALLOWED_HOSTS="127.0.0.1",
            # Plain HTTP on the loopback: no redirect to HTTPS, cookies without "Secure".
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            **env,
        )

    def wait_ready(self) -> None:
        if not wait_for(self._listening, timeout=60):
            pytest.fail("the web process did not start:\n" + process_logs(self.process))

    def _listening(self) -> bool:
        assert not self.process.done, process_logs(self.process)
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    @property
    def log(self) -> str:
        return "\n".join(self.process.log)


class Visitor:
    """One person's HTTP client (their own cookies), which notes how long each answer took."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.session = requests.Session()
        self.took: dict[str, float] = {}

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs: object) -> requests.Response:
        return self.request("POST", path, data=data, **kwargs)

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = self.session.request(
            method, self.portal.url + path, timeout=30, allow_redirects=False, **kwargs
        )
        self.took[f"{method} {path}"] = response.elapsed.total_seconds()
        return response


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_guessing_loop_is_stopped_whichever_web_process_it_hits(
    processes: Processes, var_dir: Path
) -> None:
    # The test's own Redis database, emptied before each test, shared by both processes.
    env = {
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "FEEDBACK_RATE_MISSES_PER_IP": "4",
    }
    one, two = Portal(processes, var_dir, **env), Portal(processes, var_dir, **env)
    one.wait_ready()
    two.wait_ready()
    invitation = InvitationFactory()
    guesser = [Visitor(one), Visitor(two)]

    statuses = [guesser[n % 2].get(f"/f/no-such-link-{n}/").status_code for n in range(6)]

    assert statuses == [404, 404, 404, 404, 429, 429], process_logs(one.process, two.process)
    assert guesser[0].get(f"/f/{invitation.token}/").status_code == 429
    assert guesser[1].get(f"/f/{invitation.token}/").status_code == 429


@pytest.fixture(params=["refused", "silent"])
def away_redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis that refuses connections (nothing listens), or accepts and never answers."""
    if request.param == "refused":
        yield f"redis://127.0.0.1:{free_port()}/0"
        return
    with SilentServer() as silent:
        yield f"redis://127.0.0.1:{silent.port}/0"


def test_customers_and_staff_are_served_while_redis_is_away(
    processes: Processes, var_dir: Path, away_redis_url: str
) -> None:
    portal = Portal(processes, var_dir, REDIS_URL=away_redis_url)
    portal.wait_ready()
    answered, unsubscribed = InvitationFactory(), InvitationFactory()
    alice = member("alice", "Ops")
    api_secret = api_tokens.api_token_create(name="shop sync", created_by=None)[1]

    # A customer opens their link and answers.
    customer = Visitor(portal)
    shown = customer.get(f"/f/{answered.token}/")
    assert shown.status_code == 200, portal.log
    assert "How was your order?" in shown.text
    form = {"csrfmiddlewaretoken": csrf_token(shown.text), "action": "send", "rating": "4"}
    sent = customer.post(f"/f/{answered.token}/", form)
    assert sent.status_code == 302, portal.log
    assert sent.headers["Location"] == f"/f/{answered.token}/thanks/"
    assert Response.objects.get(invitation=answered).rating == 4

    # Their mailbox provider sends another customer's one-click unsubscribe.
    provider = Visitor(portal)
    stop = provider.post(f"/f/{unsubscribed.token}/stop/", {"List-Unsubscribe": "One-Click"})
    assert stop.status_code == 200, portal.log
    customer_row = Customer.objects.get(pk=unsubscribed.customer_id)
    assert customer_row.invitations_stopped_at is not None

    # Staff read the dashboard, signed in (their session is a database row, as the login
    # page would make it; the test's users have a fast password hash the server lacks).
    staff = Visitor(portal)
    signed_in = Client()
    signed_in.force_login(alice)
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    staff.session.cookies.set(settings.SESSION_COOKIE_NAME, session)
    dashboard = staff.get("/staff/")
    assert dashboard.status_code == 200, portal.log
    assert "All channels" in dashboard.text

    # The shop's order sync asks the API about an order.
    shop = Visitor(portal)
    order_id = answered.order.external_id
    status = shop.get(
        f"/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {api_secret}"}
    )
    assert status.status_code == 200, portal.log
    assert status.json()["order_id"] == order_id

    # The load balancer learns that the broker is away.
    balancer = Visitor(portal)
    health = balancer.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {
        "database": "ok",
        "broker": "unavailable",
        "status": "unavailable",
        "sending": "ok",
    }

    took = {**customer.took, **provider.took, **staff.took, **shop.took, **balancer.took}
    slow = {request: seconds for request, seconds in took.items() if seconds >= BUDGET_SECONDS}
    assert not slow, slow
    assert "Redis unreachable: rate limits counted in this process only" in portal.log
