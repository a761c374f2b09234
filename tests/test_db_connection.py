"""Kept database connections: one the server ended is replaced before a request uses it
(a database restart costs no 500), and a sound one is reused without a question asked."""

import select
import time

import psycopg
import pytest
from django.db import close_old_connections, connection

from feedback.models import Invitation

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    )


def next_request() -> None:
    """What Django does between two requests on a kept connection."""
    close_old_connections()


def test_a_connection_the_server_ended_is_replaced_before_the_next_request() -> None:
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    Invitation.objects.count()
    ended = connection.connection.info.backend_pid
    with other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [ended])
    # The server's goodbye reaches the socket at once; wait for it, as a restart would.
    assert select.select([connection.connection.fileno()], [], [], 5)[0]
    next_request()
    assert Invitation.objects.count() == 0  # no OperationalError: a new connection
    assert connection.connection.info.backend_pid != ended


def test_a_sound_connection_is_reused_without_asking_the_server() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
    kept = connection.connection.info.backend_pid
    next_request()
    connection.close_if_health_check_failed()  # what the first query of a request does
    with other_connection() as admin:
        time.sleep(0.05)  # pg_stat_activity is updated as statements start
        last = admin.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [kept]
        ).fetchone()[0]
    assert last == "SELECT 42"  # no "SELECT 1" went to the server
    assert Invitation.objects.count() == 0
    assert connection.connection.info.backend_pid == kept
