"""Kept database connections: one the server ended is replaced before a request uses it
(a database restart costs no 500), and a sound one is kept from request to request."""

import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from feedback.models import Invitation
from tests.factories import InvitationFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    )


def request(path: str) -> int:
    """A request as a WSGI server hands it to Django, signals and all: Django looks at its
    kept connection when a request starts (the test client skips that)."""
    statuses = []
    environ = RequestFactory().get(path).environ
    response = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    response.close()
    return int(statuses[0].split()[0])


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    """End a server connection from another one, as a database restart would, and wait
    until the server has let it go."""
    with other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            alive = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if alive.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} is still there")


def test_it_keeps_and_checks_connections() -> None:
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]


def test_a_connection_the_server_ended_is_replaced_before_the_next_request() -> None:
    invitation = InvitationFactory()
    assert request(page(invitation)) == 200
    ended = backend_pid()
    terminate(ended)
    assert request(page(invitation)) == 200
    assert backend_pid() != ended


def test_a_sound_connection_is_kept_from_request_to_request() -> None:
    invitation = InvitationFactory()
    assert request(page(invitation)) == 200
    kept = backend_pid()
    assert request(page(invitation)) == 200
    assert backend_pid() == kept
