import time

import pytest
from django.test import Client

from tests.conftest import free_port
from tests.silent_server import SilentServer

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "status": "ok", "sending": "ok"}


def test_it_answers_503_at_once_when_the_broker_is_down(client: Client, settings: object) -> None:
    # A port where nothing listens: a real connection refused.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "broker": "unavailable",
        "status": "unavailable",
        "sending": "ok",
    }


def test_it_answers_503_within_3_seconds_when_the_broker_never_answers(
    client: Client, settings: object
) -> None:
    with SilentServer() as silent:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent.port}/0"
        timeout = settings.REDIS_TIMEOUT_SECONDS  # as portal/settings.py sets it for Redis
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        }
        started = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert took < 3
