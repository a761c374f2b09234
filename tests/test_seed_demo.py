import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from feedback.models import Customer, Invitation, Order, Response

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    models = (Customer, Order, Invitation, Response)
    return tuple(model.objects.count() for model in models)


def test_it_seeds_months_of_data_once_and_prints_a_working_link(client: Client) -> None:
    first = seed()
    seeded = counts()
    assert seeded[0] >= 200 and seeded[1] >= 300 and seeded[3] >= 50
    months = {d.strftime("%Y-%m") for d in Response.objects.values_list("submitted_at", flat=True)}
    assert len(months) >= 4
    seed()
    assert counts() == seeded

    assert "demo-feedback" in first
    link = re.search(r"https?://\S+/f/\S+/", first).group(0)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert page.content.decode().count('name="rating"') == 5
