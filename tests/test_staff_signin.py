"""Staff sign in at /staff/login/ and out at /staff/logout/, change or reset their password by
email, all in the staff pages' look; `/` leads to the dashboard or to the sign-in page."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from feedback.models import StaffPreference
from tests.staff import member

pytestmark = pytest.mark.django_db

LOGIN = "/staff/login/"
ADDRESS = "203.0.113.7"


@pytest.fixture
def bob() -> User:
    return member("bob", "Staff")  # password "pw", bob@shop.example


def sign_in(client: Client, password: str, next_url: str = "") -> object:
    data = {"username": "bob", "password": password, "next": next_url}
    return client.post(LOGIN, data, REMOTE_ADDR=ADDRESS)


def test_it_shows_the_sign_in_page_in_the_portal_s_look(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "feedback/portal.css" in html and "navbar-brand" in html
    assert "Django administration" not in html
    assert '<h1 class="h4 mb-3">Sign in</h1>' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert 'href="/staff/password/reset/"' in html  # "Forgot your password?"
    # Nothing in the menu for someone who has not signed in.
    assert 'href="/staff/contacts/"' not in html and 'href="/admin/"' not in html


def test_it_signs_in_and_opens_the_dashboard(client: Client, bob: User) -> None:
    response = sign_in(client, "pw")
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_it_goes_on_to_the_page_that_asked_for_a_sign_in(client: Client, bob: User) -> None:
    asked = client.get("/staff/contacts/")
    assert asked["Location"] == "/staff/login/?next=/staff/contacts/"
    assert 'value="/staff/contacts/"' in client.get(asked["Location"]).content.decode()
    assert sign_in(client, "pw", "/staff/contacts/")["Location"] == "/staff/contacts/"


def test_it_ignores_a_next_page_on_another_site(client: Client, bob: User) -> None:
    assert sign_in(client, "pw", "https://evil.example/")["Location"] == "/staff/"


def test_a_wrong_password_shows_the_form_again(client: Client, bob: User) -> None:
    response = sign_in(client, "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/staff/").status_code == 302


def test_the_sign_in_page_is_covered_by_the_lockout(client: Client, bob: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert sign_in(client, "pw").status_code == 429
    assert AccessAttempt.objects.get().username == "bob"
    assert client.get("/staff/").status_code == 302  # still not signed in


def test_the_header_signs_out_and_the_page_says_so(client: Client, bob: User) -> None:
    client.force_login(bob)
    header = client.get("/staff/").content.decode()
    assert re.search(r'<form method="post" action="/staff/logout/"[^>]*>', header)
    assert ">Sign out</button>" in header
    response = client.post("/staff/logout/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are signed out" in html
    assert 'href="/staff/login/">Sign in again</a>' in html
    assert "feedback/portal.css" in html
    assert client.get("/staff/").status_code == 302


def test_signing_out_takes_a_post_and_a_get_offers_the_button(client: Client, bob: User) -> None:
    client.force_login(bob)
    page = client.get("/staff/logout/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign out of the portal?" in html and "You are signed in as bob." in html
    assert re.search(r'<form method="post" action="/staff/logout/"', html)
    assert client.get("/staff/").status_code == 200  # a link or a prefetch signs nobody out
    # Nobody to sign out: the signed-out page, with the way back in.
    signed_out = Client().get("/staff/logout/")
    assert signed_out.status_code == 200
    assert "You are signed out" in signed_out.content.decode()


def test_the_root_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_the_root_sends_staff_to_the_dashboard(client: Client, bob: User) -> None:
    client.force_login(bob)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_the_root_sends_an_account_without_staff_status_to_sign_in(client: Client) -> None:
    client.force_login(member("charlie", None))
    assert client.get("/")["Location"] == LOGIN
    html = client.get(LOGIN).content.decode()
    assert "You are signed in as charlie, whose account cannot open the staff pages" in html


def test_a_signed_in_member_changes_their_password(client: Client, bob: User) -> None:
    client.force_login(bob)
    assert 'href="/staff/password/">Change password</a>' in client.get("/staff/").content.decode()
    form = client.get("/staff/password/")
    assert form.status_code == 200
    assert "Change your password" in form.content.decode()
    data = {
        "old_password": "pw",
        "new_password1": "grey-heron-over-the-weir",
        "new_password2": "grey-heron-over-the-weir",
    }
    done = client.post("/staff/password/", data, follow=True)
    assert done.redirect_chain == [("/staff/password/changed/", 302)]
    assert "Your password was changed" in done.content.decode()
    assert client.get("/staff/").status_code == 200  # still signed in
    assert sign_in(Client(), "grey-heron-over-the-weir")["Location"] == "/staff/"


def test_changing_the_password_needs_a_sign_in(client: Client) -> None:
    assert client.get("/staff/password/")["Location"] == "/staff/login/?next=/staff/password/"


def reset_link(message: mail.EmailMessage) -> str:
    [link] = re.findall(r"http://testserver(/staff/password/reset/\S+/)", message.body)
    return link


def test_a_reset_email_s_link_sets_a_new_password_that_signs_in(client: Client, bob: User) -> None:
    page = client.get("/staff/password/reset/")
    assert page.status_code == 200 and "Reset your password" in page.content.decode()
    sent = client.post("/staff/password/reset/", {"email": "bob@shop.example"}, follow=True)
    assert sent.redirect_chain == [("/staff/password/reset/sent/", 302)]
    assert "Check your email" in sent.content.decode()
    [message] = mail.outbox
    assert message.to == ["bob@shop.example"]
    assert message.subject == "Choose a new password for Tostadero Lumen's feedback portal"
    link = reset_link(message)
    html_body, _type = message.alternatives[0]
    assert f"http://testserver{link}" in html_body

    # Django swaps the token in the address for one in the session before showing the form.
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new = {"new_password1": "grey-heron-over-the-weir", "new_password2": "grey-heron-over-the-weir"}
    done = client.post(form.redirect_chain[-1][0], new, follow=True)
    assert done.redirect_chain == [("/staff/password/reset/done/", 302)]
    assert "Your new password is set" in done.content.decode()
    assert sign_in(client, "grey-heron-over-the-weir")["Location"] == "/staff/"
    assert sign_in(Client(), "pw").status_code == 200  # the old one no longer works

    used = Client().get(link, follow=True).content.decode()
    assert "This link does not work any more" in used


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client: Client) -> None:
    sent = client.post("/staff/password/reset/", {"email": "nobody@shop.example"}, follow=True)
    assert sent.redirect_chain == [("/staff/password/reset/sent/", 302)]
    assert "If an account has this address" in sent.content.decode()
    assert mail.outbox == []


def test_the_reset_email_comes_from_the_shop_and_carries_its_header_and_footer(
    client: Client, bob: User
) -> None:
    client.post("/staff/password/reset/", {"email": "bob@shop.example"})
    [message] = mail.outbox
    assert message.from_email == "Tostadero Lumen <feedback@tostadero-lumen.example>"
    html, _type = message.alternatives[0]
    for body in (message.body, html):
        assert "Tostadero Lumen S.L., Calle del Espíritu Santo 21, 28004 Madrid, Spain" in body
        assert "https://tostadero-lumen.example/privacy" in body
        assert "someone asked to reset the password of a staff account" in " ".join(body.split())
    assert message.body.startswith("Tostadero Lumen — https://tostadero-lumen.example/\n")
    assert '<img src="http://testserver/shop/logo"' in html


def test_the_reset_email_speaks_the_staff_member_s_language(client: Client, bob: User) -> None:
    StaffPreference.objects.create(user=bob, language="es")
    client.post("/staff/password/reset/", {"email": "bob@shop.example"})
    [message] = mail.outbox
    assert (
        message.subject
        == "Elija una nueva contraseña para el portal de opiniones de Tostadero Lumen"
    )
    assert "Para elegir una nueva contraseña, abra este enlace:" in message.body
    assert '<html lang="es">' in message.alternatives[0][0]


def test_reset_requests_are_limited_per_account(client: Client, bob: User) -> None:
    for _ in range(3):
        assert (
            client.post("/staff/password/reset/", {"email": "bob@shop.example"}).status_code == 302
        )
    refused = client.post("/staff/password/reset/", {"email": "BOB@shop.example"})
    assert refused.status_code == 429
    assert "Too many reset requests. Wait an hour" in refused.content.decode()
    assert len(mail.outbox) == 3


def test_the_sign_in_and_password_pages_speak_the_saved_language(client: Client, bob: User) -> None:
    StaffPreference.objects.create(user=bob, language="es")
    assert sign_in(client, "pw")["Location"] == "/staff/"
    assert "Cambiar su contraseña" in client.get("/staff/password/").content.decode()
    # Signed out, this browser remembers the language for the sign-in and reset pages.
    signed_out = client.post("/staff/logout/").content.decode()
    assert '<html lang="es">' in signed_out
    assert '<html lang="es">' in client.get(LOGIN).content.decode()
    assert '<html lang="es">' in client.get("/staff/password/reset/").content.decode()
    # Another browser, never signed in, gets the browser's language.
    assert '<html lang="en">' in Client().get(LOGIN).content.decode()
