"""The responses CSV: the dashboard's filters, streamed, safe to open in a spreadsheet."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from feedback.exports import HEADER, csv_safe
from feedback.models import Invitation, Response
from tests.dashboard_data import known_data, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(staff_member())
    return client


@pytest.fixture
def known() -> None:
    known_data()


def exported_bytes(client: Client, query: str) -> bytes:
    response = client.get(f"/staff/export.csv?{query}")
    assert response.status_code == 200
    assert response.streaming, "a million rows must not be built in memory"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="responses-')
    return b"".join(response.streaming_content)


def exported(client: Client, query: str) -> list[dict[str, str]]:
    text = exported_bytes(client, query).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


@pytest.mark.usefixtures("known")
def test_it_exports_the_responses_of_the_period_oldest_first(staff_client: Client) -> None:
    rows = exported(staff_client, "period=30")
    # H (29 days ago), C, B, A: what the dashboard counts as submitted in the period.
    assert [row["rating"] for row in rows] == ["3", "2", "4", "5"]
    a = rows[-1]
    response = Response.objects.get(rating=5)
    assert a["response_id"] == str(response.pk)
    assert a["order_id"] == response.invitation.order.external_id
    assert (a["channel"], a["skus"], a["nps"]) == ("web", "KETTLE", "10")
    assert a["comment"] == "<script>alert('x')</script> Lovely"
    assert a["submitted_at"] == response.submitted_at.replace(microsecond=0).isoformat()
    assert (rows[1]["contact_requested"], rows[1]["quote_allowed"]) == ("yes", "no")
    assert rows[0]["nps"] == ""
    assert "@example.com" not in str(rows), "no customer email in an export"


@pytest.mark.usefixtures("known")
def test_it_opens_in_excel_as_utf8_with_plain_timestamps(staff_client: Client) -> None:
    Response.objects.filter(rating=5).update(
        comment="Café crème ☕", edited_at=datetime(2026, 11, 30, 14, 5, 9, 123456, tzinfo=UTC)
    )
    data = exported_bytes(staff_client, "period=30")
    # Excel reads a CSV as UTF-8 only when it starts with the byte-order mark: once.
    assert data.startswith(b"\xef\xbb\xbfresponse_id,submitted_at,")
    assert data.count(b"\xef\xbb\xbf") == 1
    assert "Café crème ☕".encode() in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[-1]["edited_at"] == "2026-11-30T14:05:09+00:00"
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row["submitted_at"])


@pytest.mark.usefixtures("known")
def test_it_defuses_spreadsheet_formulas(staff_client: Client) -> None:
    comments = {row["rating"]: row["comment"] for row in exported(staff_client, "period=30")}
    assert comments["4"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("fine = ok", "fine = ok"),
    ],
)
def test_it_prefixes_cells_a_spreadsheet_would_run(value: str, safe: str) -> None:
    assert csv_safe(value) == safe


@pytest.mark.usefixtures("known")
def test_it_applies_the_dashboard_filters(staff_client: Client) -> None:
    assert [row["channel"] for row in exported(staff_client, "period=30&channel=app")] == ["app"]
    kettle = exported(staff_client, "period=90&sku=KETTLE")
    assert sorted(row["rating"] for row in kettle) == ["3", "5"]
    assert exported(staff_client, "period=custom&start=2001-01-01&end=2001-01-31") == []
    everything = exported(staff_client, "period=365")
    assert len(everything) == Response.objects.count() == 5
    assert Invitation.objects.count() > len(everything)


def test_it_refuses_bad_filters_naming_the_field(staff_client: Client) -> None:
    response = staff_client.get("/staff/export.csv?period=custom&start=2026-13-01&end=2026-01-01")
    assert response.status_code == 400
    assert "start: Enter a valid date." in response.content.decode()


@pytest.mark.usefixtures("known")
def test_it_is_linked_from_the_dashboard_with_the_same_filters(staff_client: Client) -> None:
    html = staff_client.get("/staff/?period=90&channel=app").content.decode()
    assert 'href="/staff/export.csv?period=90&amp;channel=app"' in html
