"""The feedback page kept in memory: served again only while nothing on it has changed.

Every change below is made the way another process or a bulk job would make it (a
queryset update, no signals), so nothing but the database can tell the web process.
"""

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import page_cache, selectors, services
from feedback.models import Customer, Invitation, InvitationPolicy, Order, OrderItem
from tests.factories import InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.integration]  # the fingerprint is SQL

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page(invitation: Invitation) -> str:
    return f"/f/{invitation.token}/"


def visit(client: Client, invitation: Invitation) -> tuple[str, int]:
    """The page's HTML and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page(invitation))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_second_visit_is_served_from_memory_with_its_own_csrf_token() -> None:
    invitation = InvitationFactory()
    first, rendering = visit(Client(), invitation)
    visitor = Client(enforce_csrf_checks=True)
    again, kept = visit(visitor, invitation)
    assert (rendering, kept) == (4, 1)  # the fingerprint alone
    assert CSRF.sub("", again) == CSRF.sub("", first)
    assert CSRF.search(again).group(1) != CSRF.search(first).group(1)
    answer = {"csrfmiddlewaretoken": CSRF.search(again).group(1), "action": "send", "rating": "5"}
    assert visitor.post(page(invitation), answer).status_code == 302


def _rename_items(invitation: Invitation) -> str:
    OrderItem.objects.filter(order=invitation.order).update(name="Renamed walnut lamp")
    return "Renamed walnut lamp"


def _add_item(invitation: Invitation) -> str:
    OrderItem.objects.create(order=invitation.order, sku="NEW-1", name="Spare bulb", quantity=3)
    return "3 × Spare bulb"


def _renumber_order(invitation: Invitation) -> str:
    Order.objects.filter(pk=invitation.order_id).update(external_id="A-RENUMBERED")
    return "A-RENUMBERED"


def _answer_elsewhere(invitation: Invitation) -> str:
    services.response_submit(invitation=Invitation.objects.get(pk=invitation.pk), rating=2)
    return "Your answer"


def _decline_elsewhere(invitation: Invitation) -> str:
    Invitation.objects.filter(pk=invitation.pk).update(
        state=Invitation.State.DECLINED, declined_at=timezone.now()
    )
    return "about this order again"


def _switch_locale(invitation: Invitation) -> str:
    Customer.objects.filter(pk=invitation.customer_id).update(locale="es")
    return "¿Qué tal tu pedido?"


def _ask_recommend_question(invitation: Invitation) -> str:
    InvitationPolicy.objects.filter(pk=1).update(nps_enabled=True)
    selectors.forget_page_policy()  # as FEEDBACK_POLICY_CACHE_SECONDS do, later
    return 'name="nps"'


@pytest.mark.parametrize(
    "change",
    [
        _rename_items,
        _add_item,
        _renumber_order,
        _answer_elsewhere,
        _decline_elsewhere,
        _switch_locale,
        _ask_recommend_question,
    ],
)
def test_a_change_made_anywhere_shows_on_the_next_visit(
    change: Callable[[Invitation], str], client: Client
) -> None:
    invitation = InvitationFactory()
    before = visit(client, invitation)[0]
    assert visit(client, invitation)[1] == 1  # kept
    expected = change(invitation)
    assert expected not in before
    assert expected in client.get(page(invitation)).content.decode()


def test_the_edit_window_closing_shows_though_no_row_changed(
    client: Client, settings: object
) -> None:
    invitation = InvitationFactory()
    services.response_submit(invitation=invitation, rating=4, comment="kept answer")
    assert "Change your answer" in visit(client, invitation)[0]
    assert visit(client, invitation)[1] == 1
    settings.RESPONSE_EDITABLE_DAYS = 0  # as if a week had passed
    html = client.get(page(invitation)).content.decode()
    assert "This answer can no longer be changed." in html


def test_a_language_chosen_on_the_page_is_remembered_and_kept_apart(client: Client) -> None:
    invitation = InvitationFactory()
    visit(client, invitation)
    for _ in range(2):  # ?lang= always renders: the answer must set the cookie
        spanish = client.get(page(invitation) + "?lang=es")
        assert spanish.cookies["django_language"].value == "es"
    assert "¿Qué tal tu pedido?" in visit(client, invitation)[0]
    english, kept = visit(Client(), invitation)
    assert "How was your order?" in english
    assert kept == 1  # the English page is still the one kept for English


def test_memory_holds_at_most_the_configured_number_of_pages(settings: object) -> None:
    settings.FEEDBACK_PAGE_CACHE_ENTRIES = 3
    invitations = InvitationFactory.create_batch(5)
    client = Client()
    for invitation in invitations:
        visit(client, invitation)
    assert len(page_cache._pages) == 3
    assert visit(client, invitations[0])[1] > 1  # the oldest went first
    assert visit(client, invitations[-1])[1] == 1


def test_no_page_is_kept_when_the_cache_is_off(client: Client, settings: object) -> None:
    settings.FEEDBACK_PAGE_CACHE_ENTRIES = 0
    invitation = InvitationFactory()
    visit(client, invitation)
    assert visit(client, invitation)[1] > 1
    assert len(page_cache._pages) == 0
