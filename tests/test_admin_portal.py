"""The admin belongs to the portal: its header leads back to the dashboard, the dashboard's
menu leads to it, its order list shows delivery and the invitation at a glance, and the
dashboard's comments open the answer read-only."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from feedback.models import Response
from tests.dashboard_data import known_data, staff_member
from tests.factories import InvitationFactory, OrderFactory
from tests.staff import member

pytestmark = pytest.mark.django_db

TO_DASHBOARD = '<a id="to-dashboard" href="/staff/">← Staff dashboard</a>'


def test_the_admin_s_header_links_back_to_the_dashboard(client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))
    html = client.get("/admin/").content.decode()
    header = html[html.index('<header id="header">') : html.index("</header>")]
    assert TO_DASHBOARD in header
    assert TO_DASHBOARD in client.get("/admin/feedback/response/").content.decode()


def test_a_viewer_sees_the_link_back_too(client: Client) -> None:
    client.force_login(member("bob", "Staff"))
    assert TO_DASHBOARD in client.get("/admin/").content.decode()


def test_the_admin_s_sign_in_page_has_no_link_to_the_dashboard(client: Client) -> None:
    assert "to-dashboard" not in client.get("/admin/login/").content.decode()


@pytest.mark.parametrize("group", ["Staff", "Ops"])
def test_the_dashboard_s_menu_reaches_the_admin(client: Client, group: str) -> None:
    client.force_login(member("dana", group))
    html = client.get("/staff/").content.decode()
    menu = html[html.index("<nav") : html.index("</nav>")]
    assert '<a class="nav-link" href="/admin/">Admin</a>' in menu


def test_an_account_without_staff_status_is_not_shown_the_menu(client: Client) -> None:
    client.force_login(member("charlie", None))
    html = client.get("/staff/").content.decode()  # a 403 page in the staff look
    assert 'href="/admin/"' not in html
    assert 'href="/staff/contacts/"' not in html


def test_the_order_list_shows_delivery_and_the_invitation_compactly(client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))
    invited = InvitationFactory(
        order__external_id="ORD-INVITED",
        order__delivered_at=datetime(2026, 3, 2, 14, 5, tzinfo=UTC),
        state="responded",
    )
    OrderFactory(external_id="ORD-WAITING", delivered_at=None)
    html = client.get("/admin/feedback/order/").content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers[:3] == ["external_id", "delivered", "invitation_state"]
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    [invited_row] = [row for row in rows if "ORD-INVITED" in row]
    assert '<td class="field-delivered">2026-03-02 14:05</td>' in invited_row
    link = f'<a href="/admin/feedback/invitation/{invited.pk}/change/">responded</a>'
    assert link in invited_row
    [waiting_row] = [row for row in rows if "ORD-WAITING" in row]
    assert '<td class="field-delivered">not yet</td>' in waiting_row
    assert '<td class="field-invitation_state">none</td>' in waiting_row


def test_the_order_list_sorts_by_the_invitation_s_state(client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@shop.example", "pw"))
    InvitationFactory(order__external_id="ORD-B", state="sent")
    InvitationFactory(order__external_id="ORD-A", state="declined")
    html = client.get("/admin/feedback/order/?o=3").content.decode()
    assert html.index("ORD-A") < html.index("ORD-B")


@pytest.mark.parametrize("superuser", [False, True])
def test_a_latest_comment_opens_the_answer_read_only(client: Client, superuser: bool) -> None:
    known_data()
    bob = staff_member()
    User.objects.filter(pk=bob.pk).update(is_superuser=superuser)
    client.force_login(bob)
    dashboard = client.get("/staff/").content.decode()
    response = Response.objects.get(comment="Broken handle")
    links = re.findall(r'data-comment>.*?<footer[^>]*>\s*<a href="([^"]+)"', dashboard, re.S)
    assert f"/admin/feedback/response/{response.pk}/change/" in links
    page = client.get(f"/admin/feedback/response/{response.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Broken handle" in html
    assert "View response" in html
    # No field to edit and no button to save: the answer is the customer's words.
    for name in ("comment", "rating", "nps", "contact_requested", "quote_allowed", "invitation"):
        assert f'name="{name}"' not in html, name
    assert "<textarea" not in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert client.post(f"/admin/feedback/response/{response.pk}/change/", {}).status_code == 403
