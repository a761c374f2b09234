"""Spanish translations: every message translated; staff pages in the staff member's language."""

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_file
from babel.messages.pofile import read_po
from django.contrib.auth.models import User
from django.test import Client
from django.utils.translation import templatize

from feedback.models import StaffPreference
from tests.dashboard_data import known_data, staff_member
from tests.staff import answered, member
from tests.test_simulator import form as simulator_form

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "feedback/locale/es/LC_MESSAGES/django.po"
STAFF_TEMPLATES = sorted((ROOT / "feedback/templates/feedback/staff").rglob("*.html"))
STAFF_MODULES = [
    ROOT / "feedback" / name
    for name in (
        "policy_words.py",
        "staff_forms.py",
        "selectors/dashboard.py",
        "selectors/deliverability.py",
        "selectors/simulator.py",
        "services/contacts.py",
        "views/staff.py",
        "views/staff_contacts.py",
        "views/staff_dashboard.py",
        "views/staff_policy.py",
        "views/staff_sending.py",
        "views/staff_simulator.py",
        "views/errors.py",
    )
]
KEYWORDS = {**DEFAULT_KEYWORDS, "gettext_lazy": None}


def read_catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


def staff_msgids() -> set[tuple[str, str | None]]:
    """Every message the staff templates and modules ask to translate, as makemessages sees
    them: templates through Django's templatize, then Babel's Python extractor.
    Each is (msgid, context); a plural is known by its singular."""
    found = []
    for path in STAFF_TEMPLATES:
        code = templatize(path.read_text(), origin=str(path))
        found += extract("python", io.BytesIO(code.encode()), keywords=KEYWORDS)
    for path in STAFF_MODULES:
        found += extract_from_file("python", path, keywords=KEYWORDS)
    return {
        (message[0] if isinstance(message, tuple) else message, context)
        for _line, message, _comments, context in found
    }


def test_it_translates_every_spanish_message() -> None:
    catalog = read_catalog()
    missing = []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == []


def test_it_has_a_spanish_translation_for_every_staff_message() -> None:
    catalog = read_catalog()
    msgids = staff_msgids()
    assert len(msgids) > 300
    assert sorted(msgid for msgid, context in msgids if not catalog.get(msgid, context)) == []


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


@pytest.mark.django_db
def test_it_shows_the_contact_queue_in_spanish() -> None:
    follow_up = answered(name="Ana Ruiz").follow_up
    client = in_spanish(member("bob", "Staff"))
    assert_spanish(
        client.get("/staff/contacts/").content.decode(),
        ["Solicitudes de contacto", "Asignadas a mí", "Tiempo mediano de resolución"],
        ["Customers who ticked", "Assigned to me", "Median time to resolve", "Waiting"],
    )
    assert_spanish(
        client.get(f"/staff/contacts/{follow_up.pk}/").content.decode(),
        ["Ana Ruiz pidió que le contactaran", "Datos de contacto", "Marcar como resuelta"],
        ["asked to be contacted", "Contact details", "Mark resolved", "Add a note"],
    )
    response = client.post(f"/staff/contacts/{follow_up.pk}/", {"action": "resolve"}, follow=True)
    assert "Marcada como resuelta." in response.content.decode()


@pytest.mark.django_db
def test_it_shows_the_policy_in_plain_spanish_words() -> None:
    client = in_spanish(member("alice", "Ops"))
    assert_spanish(
        client.get("/staff/policy/").content.decode(),
        ["Política de invitaciones", "En palabras sencillas", "Las invitaciones están activadas."],
        ["In plain words", "Invitations are on.", "History of changes", "after delivery"],
    )
    assert_spanish(
        client.get("/staff/policy/edit/").content.decode(),
        ["Editar la política de invitaciones", "Días de retraso tras la entrega"],
        ["Edit the invitation policy", "Delay after delivery days", "Save the policy"],
    )


@pytest.mark.django_db
def test_it_shows_the_simulator_in_spanish() -> None:
    client = in_spanish(member("alice", "Ops"))
    html = client.get("/staff/simulate/", simulator_form(sample_percent="50")).content.decode()
    assert_spanish(
        html,
        [
            "Simulador de políticas",
            "Cambios del borrador:",
            "pedidos entregados en el periodo",
            "Pedidos entregados del 2026-03-02 al 2026-03-08",
        ],
        ["Policy simulator", "Orders delivered", "Draft changes", "orders delivered in the period"],
    )
