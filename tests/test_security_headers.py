"""Headers a browser acts on: no copy of a staff page is kept (they carry personal data),
and every response denies the browser features the portal never uses."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from feedback.models import FollowUp
from tests.factories import InvitationFactory
from tests.staff import answered, member
from tests.test_staff_permissions import PAGES, url

pytestmark = pytest.mark.django_db

DENIED = {"camera", "microphone", "geolocation", "payment", "usb"}


@pytest.fixture
def follow_up() -> FollowUp:
    return answered(name="Asked Anna", email="anna@example.com").follow_up


def cache_control(response: object) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def permissions_policy(response: object) -> dict[str, str]:
    features = (part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    return dict(features)


@pytest.mark.parametrize(("name", "kwargs"), [*PAGES, ("feedback:policy_edit", {})])
def test_no_staff_page_may_be_stored(
    client: Client, follow_up: FollowUp, name: str, kwargs: dict
) -> None:
    client.force_login(member("alice", "Ops"))
    response = client.get(url(name, kwargs, follow_up))
    assert response.status_code == 200
    assert "no-store" in cache_control(response)


def test_the_csv_export_may_not_be_stored(client: Client, follow_up: FollowUp) -> None:
    client.force_login(member("bob", "Staff"))
    response = client.get(reverse("feedback:export"), {"period": "7"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in cache_control(response)


def test_every_staff_answer_is_not_stored(client: Client, follow_up: FollowUp) -> None:
    """Redirects, refusals and errors under /staff/ too, not only the pages."""
    contact = reverse("feedback:contact", args=[follow_up.pk])
    assert "no-store" in cache_control(client.get(contact))  # to the login page
    client.force_login(member("charlie", None))
    refused = client.get(contact)
    assert refused.status_code == 403
    assert "no-store" in cache_control(refused)
    client.force_login(member("bob", "Staff"))
    done = client.post(contact, {"action": "resolve"})
    assert done.status_code == 302
    assert "no-store" in cache_control(done)
    missing = client.get("/staff/contacts/999999/")
    assert missing.status_code == 404
    assert "no-store" in cache_control(missing)
    bad_filter = client.get(reverse("feedback:export"), {"period": "custom"})
    assert bad_filter.status_code == 400
    assert "no-store" in cache_control(bad_filter)


def test_every_response_denies_unused_browser_features(client: Client) -> None:
    invitation = InvitationFactory()
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))
    for target in (
        f"/f/{invitation.token}/",
        "/f/no-such-link/",
        "/healthz",
        "/admin/",
        "/staff/",
        "/api/v1/openapi.json",
        "/static/feedback/portal.css",
        "/nowhere/",
    ):
        policy = permissions_policy(client.get(target))
        assert {feature: policy.get(feature) for feature in DENIED} == dict.fromkeys(
            DENIED, "()"
        ), target
