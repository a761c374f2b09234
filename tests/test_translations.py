"""Spanish translations: every message translated; staff pages in the staff member's language."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client

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
