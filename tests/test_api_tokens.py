"""API tokens in the admin: created with the secret shown once, stored hashed, revoked."""

import hashlib
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from feedback.models import ApiToken

pytestmark = pytest.mark.django_db

ADMIN = "/admin/feedback/apitoken/"


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    return client


def create(client: Client, name: str = "shop sync") -> str:
    page = client.post(f"{ADMIN}add/", {"name": name}, follow=True).content.decode()
    return re.search(r'<code id="api-token-secret">([^<]+)</code>', page).group(1)


def test_it_shows_the_secret_once_and_stores_only_its_hash(staff_client: Client) -> None:
    created = staff_client.post(f"{ADMIN}add/", {"name": "shop sync"})
    assert created.status_code == 302  # post/redirect/get: a reload creates nothing
    response = staff_client.get(created["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'id="api-token-secret">([^<]+)<', response.content.decode()).group(1)
    assert secret.startswith("fbk_") and len(secret) >= 4 + 43  # 256 random bits
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.created_by.username == "alice"
    assert secret[:12] == token.prefix
    # Reloading shows it no more and makes no second token; the list and the token's page
    # show the prefix, never the secret again.
    reloaded = staff_client.get(created["Location"]).content.decode()
    assert secret not in reloaded and "shown once" in reloaded
    assert ApiToken.objects.count() == 1
    for page in (ADMIN, f"{ADMIN}{token.pk}/change/"):
        html = staff_client.get(page).content.decode()
        assert token.prefix in html
        assert secret not in html


def test_the_secret_works_until_the_token_is_revoked(staff_client: Client) -> None:
    secret = create(staff_client)
    api = Client(headers={"authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/orders/NONE").status_code == 404
    token = ApiToken.objects.get()
    staff_client.post(ADMIN, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/orders/NONE").status_code == 403
    listing = staff_client.get(ADMIN).content.decode()
    assert "last used" in listing.lower()


def test_two_tokens_have_different_secrets(staff_client: Client) -> None:
    assert create(staff_client, "a") != create(staff_client, "b")
    assert ApiToken.objects.count() == 2
