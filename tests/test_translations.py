"""Spanish translations: every message translated; staff pages in the staff member's language."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.contrib.auth.models import User
from django.test import Client

from feedback.models import StaffPreference
from tests.dashboard_data import known_data, staff_member
from tests.staff import member

PO = Path(__file__).resolve().parent.parent / "feedback/locale/es/LC_MESSAGES/django.po"


def test_it_translates_every_spanish_message() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f)
    missing = []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == []


@pytest.mark.django_db
def test_it_remembers_each_staff_members_language() -> None:
    bob, carol = member("bob", "Staff"), member("carol", "Staff")
    first = Client()
    first.force_login(bob)
    response = first.post("/staff/language/", {"language": "es", "next": "/staff/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/contacts/"

    later = Client()  # a new session: a new sign-in, no cookie
    later.force_login(bob)
    assert "Idioma" in later.get("/staff/contacts/").content.decode()
    assert '<html lang="es">' in later.get("/staff/contacts/").content.decode()

    other = Client()
    other.force_login(carol)
    assert '<html lang="en">' in other.get("/staff/contacts/").content.decode()


@pytest.mark.django_db
def test_it_ignores_an_unknown_language_and_a_foreign_next_page() -> None:
    client = Client()
    client.force_login(member("bob", "Staff"))
    response = client.post("/staff/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/staff/"
    assert '<html lang="en">' in client.get("/staff/contacts/").content.decode()


def in_spanish(user: User) -> Client:
    StaffPreference.objects.create(user=user, language="es")
    client = Client()
    client.force_login(user)
    return client


def assert_spanish(html: str, spanish: list[str], english: list[str]) -> None:
    assert [text for text in spanish if text not in html] == []
    assert [text for text in english if text in html] == []


@pytest.mark.django_db
def test_it_shows_the_dashboard_in_spanish() -> None:
    known_data()
    html = in_spanish(staff_member()).get("/staff/?period=30").content.decode()
    assert_spanish(
        html,
        [
            "Satisfacción de los clientes",
            "Tasa de respuesta",
            "¿Somos insistentes?",
            "Últimos 30 días",
        ],
        [
            "Customer satisfaction",
            "Response rate",
            "Are we pushy?",
            "Invitations sent",
            "Latest comments",
            "Invitation emails accepted by the mail server",
            "Last 30 days",
            " of 7 days",
            "in all.",
        ],
    )
