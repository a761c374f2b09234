"""Each dashboard figure beside the previous period of the same length, with the change."""

import re

import pytest
from django.test import Client

from feedback.models import StaffPreference
from tests.dashboard_data import answer, invite, rollups_rebuild, staff_member
from tests.test_dashboard import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_weeks() -> None:
    """Last 7 days: 2 sent, one answered 5★. The 7 days before: 4 sent, answered 2★ and 4★."""
    answer(invite(1, sku="KETTLE"), 1, 5)
    invite(2)
    answer(invite(8, sku="KETTLE"), 8, 2)
    answer(invite(9), 9, 4)
    invite(9)
    invite(10)
    rollups_rebuild()


def previous(html: str, name: str) -> str:
    line = re.search(rf'data-previous="{name}">(.*?)</p>', html, re.S)
    assert line, name
    return text_of(line.group(1))


def test_it_shows_each_figure_beside_the_previous_seven_days(
    client: Client, two_weeks: None
) -> None:
    client.force_login(staff_member())
    html = client.get("/staff/?period=7").content.decode()
    assert previous(html, "sent") == "Previous period: 4, change: -2"
    assert previous(html, "response_rate") == "Previous period: 50%, change: +0 pts"
    assert previous(html, "csat") == "Previous period: 50%, change: +50 pts"
    assert previous(html, "average") == "Previous period: 3.0, change: +2.0"
    assert "Each figure is shown beside the previous period of the same length" in text_of(html)


def test_it_says_so_in_spanish(client: Client, two_weeks: None) -> None:
    user = staff_member()
    StaffPreference.objects.create(user=user, language="es")
    client.force_login(user)
    html = client.get("/staff/?period=7").content.decode()
    assert previous(html, "csat") == "Periodo anterior: 50%, cambio: +50 pp"
    assert "Cada cifra se muestra junto al periodo anterior de la misma duración" in text_of(html)


def test_a_product_filter_compares_that_product(client: Client, two_weeks: None) -> None:
    client.force_login(staff_member())
    html = client.get("/staff/?period=7&sku=KETTLE").content.decode()
    assert previous(html, "sent") == "Previous period: 1, change: +0"
    assert previous(html, "csat") == "Previous period: 0%, change: +100 pts"


def test_an_empty_previous_period_shows_dashes(client: Client) -> None:
    answer(invite(1), 1, 5)
    rollups_rebuild()
    client.force_login(staff_member())
    html = client.get("/staff/?period=7").content.decode()
    assert previous(html, "csat") == "Previous period: —, change: —"
    assert previous(html, "sent") == "Previous period: 0, change: +1"
