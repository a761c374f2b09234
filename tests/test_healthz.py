import pytest
from django.test import Client

from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "status": "ok"}


def test_it_answers_503_when_the_broker_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point the app at a port where nothing listens: a real connection failure.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"
