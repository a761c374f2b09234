"""manage.py reconcile_rollups: recompute days from the raw rows, report, repair."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone

from feedback.models import DailyFigures, Response
from tests.dashboard_data import known_data, staff_member
from tests.test_dashboard import figures_on_page

pytestmark = pytest.mark.django_db


def reconcile(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_rollups", *args, stdout=out)
    except SystemExit as exit:
        return int(exit.code), out.getvalue()
    return 0, out.getvalue()


def test_it_finds_nothing_to_repair_after_writes_through_the_services() -> None:
    known_data()
    code, out = reconcile("--from", str(timezone.localdate() - timedelta(days=90)))
    assert code == 0
    assert out.strip().endswith("0 difference(s) found")


def test_it_reports_each_difference_and_repairs_it(client: Client) -> None:
    known_data()
    client.force_login(staff_member())
    # A drift the services never make: a row changed by hand, a rating changed in SQL.
    day = timezone.localdate() - timedelta(days=2)
    DailyFigures.objects.filter(day=day, sku="").update(r5=F("r5") + 3)
    Response.objects.filter(rating=4).update(rating=1)
    assert (
        figures_on_page(client.get("/staff/?period=30").content.decode())["csat"] == "71%"
    )  # 5 of 7: the three made-up 5★ count

    code, out = reconcile()
    assert code == 1
    assert f"{day} channel=web locale=en sku=(all) r5: stored 4, recomputed 1" in out
    assert "sku=GRINDER r4: stored 1, recomputed 0" in out
    assert "sku=GRINDER r1: stored 0, recomputed 1" in out

    code, out = reconcile("--repair")
    assert code == 0 and "difference(s) repaired" in out
    assert reconcile()[1].strip().endswith("0 difference(s) found")
    # 5★, 1★ (was 4★), 2★, 3★: one of four satisfied.
    assert figures_on_page(client.get("/staff/?period=30").content.decode())["csat"] == "25%"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "not a day (YYYY-MM-DD): '2026-02-30'"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "--from must not be after --to"),
    ],
)
def test_it_refuses_a_bad_range(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("reconcile_rollups", *args)
