"""Error pages in the portal's look, with a way back: the staff pages' under /staff/ and
/admin/ (back to the dashboard), the customer's anywhere else (back to their page and to the
shop), in the customer's language."""

import pytest
from django.test import Client

from tests.factories import InvitationFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example/"
BACK_TO_DASHBOARD = '<a href="/staff/">Back to the dashboard</a>'


@pytest.fixture(autouse=True)
def shop(settings: object) -> None:
    settings.SHOP_URL = SHOP


@pytest.fixture
def failing() -> Client:
    """A client that gets the 500 page a browser would, with the failing test pages."""
    return Client(raise_request_exception=False)


def customer_look(html: str) -> bool:
    return "<title>" in html and "navbar" not in html and "feedback/portal.css" in html


def staff_look(html: str) -> bool:
    return "navbar-brand" in html and "feedback/portal.css" in html


def test_a_bad_request_from_a_customer(client: Client) -> None:
    response = client.get("/f/abc/", HTTP_HOST="evil.example")  # a Host not allowed
    assert response.status_code == 400
    html = response.content.decode()
    assert customer_look(html)
    assert "We could not read this request." in html
    assert f'href="{SHOP}"' in html


def test_a_bad_request_on_a_staff_page(client: Client) -> None:
    response = client.get("/staff/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert staff_look(html) and "Bad request" in html
    assert BACK_TO_DASHBOARD in html


@pytest.mark.urls("tests.error_urls")
def test_a_refusal_on_a_customer_page_leads_back_to_it(client: Client) -> None:
    invitation = InvitationFactory()
    response = client.get(f"/f/{invitation.token}/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert customer_look(html) and "This page is not open to you." in html
    assert f'href="/f/{invitation.token}/">Back to your feedback page</a>' in html
    assert f'href="{SHOP}"' in html


def test_a_refusal_on_a_staff_page_leads_back_to_the_dashboard(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    response = client.get("/admin/feedback/order/")  # orders are not for the Staff role
    assert response.status_code == 403
    html = response.content.decode()
    assert staff_look(html) and "You may not open this page" in html
    assert BACK_TO_DASHBOARD in html


def test_an_account_without_a_role_is_offered_another_sign_in(client: Client) -> None:
    client.force_login(member("charlie", None))
    response = client.get("/staff/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not open this page" in html
    assert '<a href="/staff/login/">Sign in with another account</a>' in html
    assert BACK_TO_DASHBOARD not in html


def test_an_unknown_customer_address_in_the_customer_s_language(client: Client) -> None:
    response = client.get("/f/abc/nothing-here/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    html = response.content.decode()
    assert customer_look(html) and '<html lang="es">' in html
    assert "Este enlace no funciona." in html
    assert f'<a href="{SHOP}">Ir a la web de la tienda</a>' in html


def test_an_unknown_address_anywhere_else_looks_like_the_customer_pages(client: Client) -> None:
    response = client.get("/wp-login.php")
    assert response.status_code == 404
    html = response.content.decode()
    assert customer_look(html) and "This link does not work." in html


def test_an_unknown_staff_page_leads_back_to_the_dashboard(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    for path in ("/staff/nothing-here/", "/staff/contacts/999999/"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.content.decode()
        assert staff_look(html) and "Page not found" in html
        assert BACK_TO_DASHBOARD in html
        assert 'href="/staff/contacts/"' in html  # the staff menu


@pytest.mark.urls("tests.error_urls")
def test_a_failure_on_a_customer_page_in_their_language(failing: Client) -> None:
    invitation = InvitationFactory(order__customer__locale="es")
    response = failing.get(f"/f/{invitation.token}/bug/")
    assert response.status_code == 500
    html = response.content.decode()
    assert customer_look(html) and '<html lang="es">' in html
    assert "Algo ha fallado por nuestra parte." in html
    assert f'href="/f/{invitation.token}/">Volver a tu página de opinión</a>' in html
    assert f'href="{SHOP}"' in html


@pytest.mark.urls("tests.error_urls")
def test_a_failure_on_a_staff_page_leads_back_to_the_dashboard(failing: Client) -> None:
    failing.force_login(member("bob", "Staff"))
    response = failing.get("/staff/bug/")
    assert response.status_code == 500
    html = response.content.decode()
    assert staff_look(html) and "Something went wrong on our side" in html
    assert BACK_TO_DASHBOARD in html


def test_a_viewer_on_the_policy_editor_is_told_what_they_may_do(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    for response in (client.get("/staff/policy/edit/"), client.post("/staff/policy/edit/", {})):
        assert response.status_code == 403
        html = response.content.decode()
        assert staff_look(html)
        assert "Only Ops can change the invitation policy" in html
        assert '<a href="/staff/policy/">read the live policy and its history' in html
        assert '<a href="/staff/simulate/">try a change in the simulator</a>' in html
