import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from feedback.models import Customer, Invitation, Order, PolicyVersion, Response

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
    # The story's sampling trial is in the policy's history, once.
    trial = PolicyVersion.objects.order_by("changed_at").values_list("changes", flat=True)
    assert [c["sample_percent"]["after"] for c in trial] == [70, 100]

    assert "demo-feedback" in first
    link = re.search(r"https?://\S+/f/\S+/", first).group(0)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert page.content.decode().count('name="rating"') == 5


def test_it_gives_the_dashboard_a_story_to_tell(client: Client) -> None:
    first = seed()
    assert "/staff/" in first
    client.force_login(User.objects.get(username="demo"))
    html = client.get("/staff/?period=365").content.decode()
    shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    for name in ("sent", "send_failed", "suppressed_total", "followups_open"):
        assert int(shown[name]) > 0, name
    for name in ("response_rate", "csat", "nps"):
        assert 0 < int(shown[name].strip("%+")) < 100, name
    for name in ("declines_per_1000", "snoozes_per_1000", "stops_per_1000"):
        assert float(shown[name]) > 0, name
    assert shown["time_to_resolve"] != "—"
    assert html.count("<blockquote") == 10  # the latest comments
    # The kettle whose lid leaks stands out in the per-product table.
    products = re.findall(
        r"sku=([\w-]+)\">[^<]+</a>.*?</td>\s*<td[^>]*>(\d+).*?</td>\s*"
        r"<td[^>]*>(\d+)%",
        html,
        re.S,
    )
    csat = {sku: int(share) for sku, _n, share in products}
    assert len(csat) >= 10
    assert csat["KTL-GLS-17"] == min(csat.values()) < 50
