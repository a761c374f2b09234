"""`manage.py import_orders` and the admin's upload page: good rows in, bad rows reported by
line, nothing half-written, and a second import changes nothing."""

import io
import re
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from feedback.models import Customer, Invitation, Order, OrderItem
from feedback.services.order_import import ANALYZE_AFTER_ROWS, orders_import_csv
from tests.conftest import ROOT, service_env

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("all_day_window")]

HEADER = (
    "order_id,customer_email,customer_name,placed_at,delivered_at,items,locale,timezone,consent"
)
ROWS = [
    HEADER,
    # 2: good, a quoted comma in the name, delivered: gets its invitation
    'A-1,Ana@Example.com,"García, Ana",2025-03-01T10:00:00+01:00,2025-03-03T12:00:00Z,'
    "SKU-1|Burr grinder|1;SKU-2|Filters|3,es,Europe/Madrid,yes",
    "",  # 3: an empty line
    # 4: a month 13
    "A-2,bo@example.com,Bo,2025-13-01T10:00:00+01:00,,SKU-1|Burr grinder|1,en,UTC,",
    # 5: a bad email
    "A-3,cy@@example.com,Cy,2025-03-01T10:00:00+01:00,,SKU-1|Burr grinder|1,en,UTC,",
    # 6: an unknown time zone
    "A-4,di@example.com,Di,2025-03-01T10:00:00+01:00,,SKU-1|Burr grinder|1,en,Europe/Atlantis,",
    # 7: a column short
    "A-5,ed@example.com,Ed,2025-03-01T10:00:00+01:00,,SKU-1|Burr grinder|1,en,",
    # 8-9: good, a line break inside a quoted name
    'A-6,fay@example.com,"Fay\r\nLee",2025-03-02T09:00:00-05:00,,SKU-3|Kettle|1,en,America/New_York,no',
    # 10: good, not delivered yet
    "A-7,gus@example.com,Gus,2025-03-04T09:00:00Z,,SKU-1|Burr grinder|2,,,",
    # 11: a new customer's row with a bad item list: the customer must not appear either
    "A-8,ghost@example.com,Ghost,2025-03-04T09:00:00Z,,SKU-1|Burr grinder,en,UTC,",
    # 12: the same order as line 2 again
    'A-1,ana@example.com,"García, Ana",2025-03-01T10:00:00+01:00,,SKU-1|Burr grinder|1,es,,',
    "",
]
MIXED = ("\ufeff" + "\r\n".join(ROWS)).encode()
REPORT = [
    "line 4: placed_at: '2025-13-01T10:00:00+01:00' is not an ISO 8601 date and time, "
    "e.g. 2025-03-01T14:30:00+01:00",
    "line 5: customer_email: 'cy@@example.com' is not a valid email address",
    "line 6: timezone: 'Europe/Atlantis' is not an IANA time zone name, e.g. Europe/Madrid",
    "line 7: row: has 8 fields, the header has 9",
    "line 11: items: item 1 'SKU-1|Burr grinder' is not sku|name|qty",
    "line 12: order_id: 'A-1' already appears on line 2; one row per order",
]
REJECTED_6 = "6 rows rejected (reported above by line); the other rows were imported"


def import_file(path: Path, *args: str) -> tuple[str, list[str]]:
    """The summary and the report of an import; a rejected row is a CommandError (exit 1),
    whose message ends the report."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_orders", str(path), "--batch-size", "2", *args, stdout=out, stderr=err)
    except CommandError as error:
        if not re.match(r"\d+ rows? rejected", str(error)):
            raise
        return out.getvalue().strip(), [*err.getvalue().splitlines(), str(error)]
    return out.getvalue().strip(), err.getvalue().splitlines()


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([HEADER, *rows]), encoding="utf-8")
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes(MIXED)
    return path


def test_it_imports_the_good_rows_and_reports_each_bad_one_by_line(mixed: Path) -> None:
    summary, report = import_file(mixed)
    assert summary == "import_orders: created 3, updated 0, unchanged 0, rejected 6"
    assert report == [*REPORT, REJECTED_6]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A-1", "A-6", "A-7"]
    ana = Customer.objects.get(email="ana@example.com")
    assert (ana.name, ana.locale, ana.consent) == ("García, Ana", "es", "given")
    assert Customer.objects.get(email="fay@example.com").name == "Fay Lee"
    gus = Customer.objects.get(email="gus@example.com")
    assert (gus.locale, gus.time_zone, gus.consent) == ("en", "UTC", "unknown")
    # Nothing of a rejected row is written, not even its new customer.
    assert sorted(Customer.objects.values_list("email", flat=True)) == [
        "ana@example.com",
        "fay@example.com",
        "gus@example.com",
    ]
    assert OrderItem.objects.filter(order__external_id="A-1").count() == 2
    invitation = Invitation.objects.get()
    assert invitation.order.external_id == "A-1"


def test_a_second_import_changes_nothing(mixed: Path) -> None:
    import_file(mixed)
    state = list(Order.objects.order_by("pk").values_list("pk", "updated_at", "customer_id"))
    customers = list(Customer.objects.order_by("pk").values_list("pk", "updated_at"))
    items = list(OrderItem.objects.order_by("pk").values_list("pk", flat=True))
    summary, report = import_file(mixed)
    assert summary == "import_orders: created 0, updated 0, unchanged 3, rejected 6"
    assert report == [*REPORT, REJECTED_6]
    assert (
        list(Order.objects.order_by("pk").values_list("pk", "updated_at", "customer_id")) == state
    )
    assert list(Customer.objects.order_by("pk").values_list("pk", "updated_at")) == customers
    assert list(OrderItem.objects.order_by("pk").values_list("pk", flat=True)) == items
    assert Invitation.objects.count() == 1


class OneByteAtATime(io.RawIOBase):
    """A file that hands out one byte per read, as a slow pipe might."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        byte = self.data.read(1)
        buffer[: len(byte)] = byte
        return len(byte)


def test_reads_that_split_a_character_or_a_line_end_change_nothing() -> None:
    # "í" and "\r\n" are split between reads.
    errors: list[str] = []
    file = io.BufferedReader(OneByteAtATime(MIXED), buffer_size=1)
    report = orders_import_csv(file=file, on_error=errors.append, batch_size=2)
    assert str(report) == "created 3, updated 0, unchanged 0, rejected 6"
    assert errors == REPORT
    assert Customer.objects.get(email="ana@example.com").name == "García, Ana"


def test_a_corrected_file_updates_what_changed(mixed: Path, tmp_path: Path) -> None:
    import_file(mixed)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        "\n".join(
            [
                HEADER,
                "A-2,bo@example.com,Bo,2025-03-01T10:00:00+01:00,,SKU-1|Burr grinder|1,en,UTC,",
                "A-7,gus@example.com,Gus,2025-03-04T09:00:00Z,2025-03-06T09:00:00Z,"
                "SKU-1|Burr grinder|2,,,",
            ]
        )
    )
    summary, report = import_file(fixed)
    assert summary == "import_orders: created 1, updated 1, unchanged 0, rejected 0"
    assert report == []
    assert Invitation.objects.filter(order__external_id="A-7").count() == 1


def test_it_writes_the_report_to_the_errors_file(mixed: Path, tmp_path: Path) -> None:
    errors = tmp_path / "errors.txt"
    import_file(mixed, "--errors", str(errors))
    assert errors.read_text(encoding="utf-8").splitlines() == REPORT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "line 1: the file is not UTF-8 text"),
        (
            b"order_id,email,name\r\nA-1,a@example.com,A\r\n",
            "line 1: header: expected the columns order_id,customer_email,",
        ),
        (b"", "line 1: header: expected the columns"),
    ],
)
def test_it_refuses_a_file_that_is_not_an_order_csv(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        import_file(path)
    assert not Order.objects.exists()


def test_rows_before_an_unreadable_line_are_imported_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    good = [ROWS[0], ROWS[1], ROWS[8]]
    path.write_bytes("\n".join(good).encode() + b"\nA-9,h\xe9@example.com,H\xe9\n")
    with pytest.raises(CommandError) as caught:
        import_file(path)
    assert str(caught.value).endswith(
        "line 4: the file is not UTF-8 text; save it as CSV UTF-8 "
        "(rows before it: created 2, updated 0, unchanged 0, rejected 0)"
    )
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A-1", "A-7"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_it_exits_1_when_a_row_was_rejected_and_imports_the_good_ones(
    mixed: Path, tmp_path: Path
) -> None:
    def run(path: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "import_orders", str(path)]
        return subprocess.run(command, cwd=ROOT, env=service_env(), capture_output=True, text=True)

    result = run(mixed)
    assert result.returncode == 1
    assert result.stdout == "import_orders: created 3, updated 0, unchanged 0, rejected 6\n"
    assert result.stderr.splitlines() == [*REPORT, f"CommandError: {REJECTED_6}"]
    assert Order.objects.count() == 3
    clean = run(write(tmp_path, ROWS[8].replace("A-7", "A-9")))
    assert (clean.returncode, clean.stderr) == (0, "")
    assert Order.objects.count() == 4


def test_a_line_too_long_to_hold_is_its_rows_error_and_the_rest_goes_in(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    too_long = b"A-2,b@example.com," + b"x" * (1024 * 1024 + 1) + b"\r\n"
    path.write_bytes(f"{HEADER}\n{ROWS[1]}\n".encode() + too_long + ROWS[8].encode())
    summary, report = import_file(path)
    assert report == [
        "line 3: row: the line is longer than 1,048,576 characters",
        "1 row rejected (reported above by line); the other rows were imported",
    ]
    assert summary == "import_orders: created 2, updated 0, unchanged 0, rejected 1"
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A-1", "A-7"]


def test_a_cell_too_long_to_read_is_its_lines_error_and_the_rest_goes_in(tmp_path: Path) -> None:
    long_name = "n" * 200_000  # over the csv module's field limit
    bad = f"A-2,b@example.com,{long_name},2025-03-01T10:00:00Z,,S|Mug|1,en,UTC,"
    path = write(tmp_path, ROWS[1], bad, ROWS[8])
    summary, report = import_file(path)
    assert report[0] == "line 3: row: not readable as CSV (field larger than field limit (131072))"
    assert summary == "import_orders: created 2, updated 0, unchanged 0, rejected 1"
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["A-1", "A-7"]


def test_a_semicolon_separated_file_is_told_to_use_commas(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER.replace(",", ";") + "\n" + ROWS[1].replace(",", ";"))
    with pytest.raises(CommandError, match="the columns are separated by semicolons; use commas"):
        import_file(path)
    assert not Order.objects.exists()


def test_a_row_with_too_many_fields_is_told_to_quote_commas(tmp_path: Path) -> None:
    unquoted = "A-2,bo@example.com,García, Bo,2025-03-01T10:00:00Z,,S|Mug|1,en,UTC,"
    _summary, report = import_file(write(tmp_path, unquoted, ROWS[8]))
    assert report[0] == (
        "line 2: row: has 10 fields, the header has 9; "
        'quote fields that contain commas, e.g. "García, Ana"'
    )
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A-7"]


def test_localtime_and_factory_are_not_time_zones(tmp_path: Path) -> None:
    rows = [
        ROWS[8].replace("A-7", f"Z-{n}").replace(",,,", f",,{zone},")
        for n, zone in enumerate(["localtime", "Factory", "UTC"])
    ]
    _summary, report = import_file(write(tmp_path, *rows))
    assert report[:2] == [
        "line 2: timezone: 'localtime' is not an IANA time zone name, e.g. Europe/Madrid",
        "line 3: timezone: 'Factory' is not an IANA time zone name, e.g. Europe/Madrid",
    ]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["Z-2"]


def test_a_delivery_before_the_order_is_that_lines_error(tmp_path: Path) -> None:
    early = "B-1,bo@example.com,Bo,2025-03-05T10:00:00Z,2025-03-04T10:00:00Z,S|Mug|1,en,UTC,"
    _summary, report = import_file(write(tmp_path, early, ROWS[8]))
    assert report[0] == "line 2: delivered_at: is before placed_at"
    assert list(Order.objects.values_list("external_id", flat=True)) == ["A-7"]


def test_a_row_placed_after_its_recorded_delivery_is_that_lines_error(tmp_path: Path) -> None:
    import_file(write(tmp_path, ROWS[1]))  # A-1, delivered 2025-03-03T12:00:00Z
    moved = ROWS[1].replace(
        "2025-03-01T10:00:00+01:00,2025-03-03T12:00:00Z", "2025-03-05T10:00:00Z,"
    )
    _summary, report = import_file(write(tmp_path, moved, ROWS[8]))
    assert report[0] == (
        "line 2: delivered_at: the delivery on record, 2025-03-03T12:00:00Z, is before placed_at"
    )
    assert Order.objects.get(external_id="A-1").placed_at == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert Order.objects.filter(external_id="A-7").exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_large_import_refreshes_the_tables_statistics(tmp_path: Path) -> None:
    def analyzed() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname IN "
                "('feedback_customer', 'feedback_order', 'feedback_orderitem', "
                "'feedback_invitation')"
            )
            return dict(cursor.fetchall())

    rows = [
        f"L-{n},buyer{n}@example.com,Buyer,2025-03-01T10:00:00Z,,S|Mug|1,en,UTC,"
        for n in range(ANALYZE_AFTER_ROWS)
    ]
    before = analyzed()
    summary, _report = import_file(write(tmp_path, *rows), "--batch-size", "1000")
    assert summary == (
        "import_orders: created 1000, updated 0, unchanged 0, rejected 0; "
        "table statistics refreshed"
    )
    after = analyzed()
    assert all(after[table] == before.get(table, 0) + 1 for table in after), (before, after)
    assert len(after) == 4
    # A small import leaves that to autovacuum.
    summary, _report = import_file(write(tmp_path, rows[0].replace("L-0", "S-1")))
    assert summary == "import_orders: created 1, updated 0, unchanged 0, rejected 0"
    assert analyzed() == after


def test_it_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing\.csv: No such file"):
        import_file(tmp_path / "missing.csv")


# The admin upload page -------------------------------------------------------------------

IMPORT_URL = "/admin/feedback/order/import/"


@pytest.fixture
def alice(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    return client


def upload(client: Client, content: bytes, name: str = "orders.csv") -> str:
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})
    assert response.status_code == 200
    return response.content.decode()


def test_staff_import_a_file_and_see_each_bad_line(alice: Client) -> None:
    changelist = alice.get("/admin/feedback/order/").content.decode()
    assert f'href="{IMPORT_URL}"' in changelist
    html = upload(alice, MIXED)
    assert "created 3, updated 0, unchanged 0, rejected 6" in html
    assert "line 7: row: has 8 fields, the header has 9" in html
    assert "line 5: customer_email: &#x27;cy@@example.com&#x27; is not a valid email" in html
    assert Order.objects.count() == 3
    assert "created 0, updated 0, unchanged 3, rejected 6" in upload(alice, MIXED)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((HEADER + "\r\n").encode("utf-16"), "line 1: the file is not UTF-8 text"),
        (bytes(range(256)) * 4, "line 1: header: expected the columns"),
        (b"id;mail\nA-1;a@example.com\n", "separated by semicolons; use commas"),
    ],
)
def test_a_garbage_upload_gets_a_clear_message(alice: Client, content: bytes, message: str) -> None:
    html = upload(alice, content, name="garbage.csv")
    assert message in html
    assert 'class="errornote"' in html
    assert not Order.objects.exists()


def test_the_upload_needs_a_file(alice: Client) -> None:
    response = alice.post(IMPORT_URL, {})
    assert "This field is required." in response.content.decode()


def test_viewers_may_not_import(client: Client) -> None:
    bob = User.objects.create_user("bob", "bob@example.com", "pw", is_staff=True)
    bob.groups.add(Group.objects.get(name="Staff"))
    client.force_login(bob)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"file": SimpleUploadedFile("o.csv", MIXED)}).status_code == 403
    assert not Order.objects.exists()


def test_the_upload_is_csrf_protected() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("alice", "alice@example.com", "pw"))
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("o.csv", MIXED)})
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_values_the_database_cannot_store_are_bad_lines_not_a_crash(tmp_path: Path) -> None:
    good = "B-1,bo@example.com,Bo,2025-03-01T10:00:00+01:00,,S|Mug|1,en,UTC,"
    rows = [
        HEADER,
        "B-2,cy@example.com,Cy\x00Nul,2025-03-01T10:00:00+01:00,,S|Mug|1,en,UTC,",
        "B-3,di@example.com,Di,0001-01-01T00:00:00+00:00,,S|Mug|1,en,UTC,",
        "B-4,ed@example.com,Ed,2025-03-01T10:00:00+01:00,,S|Mu\x07g|1,en,UTC,",
        good,
    ]
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    _summary, report = import_file(path)
    assert report == [
        "line 2: customer_name: contains control characters or invalid characters",
        "line 3: placed_at: must be between the years 2000 and 2100",
        "line 4: items: item 1: contains control characters or invalid characters",
        "3 rows rejected (reported above by line); the other rows were imported",
    ]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["B-1"]
