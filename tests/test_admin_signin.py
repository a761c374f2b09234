"""Admin sign-in is throttled (django-axes): failures are counted per account and address
together; a locked sign-in says when to try again and whom to ask; a superuser unlocks."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from tests.staff import member

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


@pytest.fixture
def alice() -> User:
    return member("alice", "Ops")  # password "pw"


def sign_in(client: Client, password: str, address: str = ATTACKER) -> object:
    data = {"username": "alice", "password": password, "next": "/admin/"}
    return client.post(LOGIN, data, REMOTE_ADDR=address)


def signed_in(response: object) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def lock(client: Client) -> object:
    for _ in range(40):
        response = sign_in(client, "wrong")
    return response


def test_forty_wrong_passwords_lock_the_account_and_the_right_one_then_fails(
    client: Client, alice: User
) -> None:
    assert lock(client).status_code == 429
    response = sign_in(client, "pw")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert "Try again in 15 minutes" in html
    assert "ask an administrator" in html
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_it_locks_at_the_configured_limit(client: Client, alice: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    assert sign_in(client, "wrong").status_code == 429


def test_the_same_account_from_another_address_still_signs_in(client: Client, alice: User) -> None:
    lock(client)
    assert signed_in(sign_in(Client(), "pw", address=ELSEWHERE))


def test_the_right_password_works_again_after_the_cool_off(client: Client, alice: User) -> None:
    lock(client)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert signed_in(sign_in(client, "pw"))


def test_a_superuser_unlocks_with_the_command(client: Client, alice: User) -> None:
    lock(client)
    call_command("axes_reset_username", "alice", verbosity=0)
    assert signed_in(sign_in(client, "pw"))


def test_a_superuser_unlocks_in_the_admin(client: Client, alice: User) -> None:
    lock(client)
    root = Client()
    root.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))
    attempts = root.get("/admin/axes/accessattempt/").content.decode()
    assert "alice" in attempts and ATTACKER in attempts
    selected = list(AccessAttempt.objects.values_list("pk", flat=True))
    data = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    assert root.post("/admin/axes/accessattempt/", data).status_code == 302
    assert signed_in(sign_in(client, "pw"))


def test_a_successful_sign_in_starts_the_count_again(client: Client, alice: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert signed_in(sign_in(client, "pw"))
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert signed_in(sign_in(client, "pw"))


def test_viewers_cannot_see_or_clear_sign_in_attempts(client: Client, alice: User) -> None:
    lock(Client())
    client.force_login(member("bob", "Staff"))
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    assert AccessAttempt.objects.exists()
