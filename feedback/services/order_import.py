"""The CSV import of orders, for `manage.py import_orders` and the admin's upload page.

The file is read as text and parsed row by row: memory holds one batch of rows and the
ids seen so far, not the file. Each row is validated on its own
(feedback.ingest); good rows go to orders_upsert a batch at a time, one transaction per
batch, so a bad row never blocks the good ones and nothing is half-written. Bad rows are
reported as `line N: field: reason`, N being the row's first physical line (the header
is line 1).

An order id may appear once per file: a later row for an order already imported from
this file is rejected and reported, naming the earlier line. (Letting the later row win
would make a re-import flip the order back and forth, and no longer change nothing.)

A line too long to hold, or a cell longer than the csv module takes, is that row's error;
the rows after it are read on. After an import that changed many rows, the tables'
statistics are refreshed, so that the next dashboard query gets a good plan.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import DataError, IntegrityError, connection

from feedback.ingest import CSV_HEADER, OrderRecord, RowInvalid, record_from_row
from feedback.models import Customer, Invitation, Order, OrderItem
from feedback.services.orders import OrdersRefused, UpsertSummary, orders_upsert

DEFAULT_BATCH_SIZE = 1000
# A longer line is refused rather than held in memory (a binary file may have no newline).
MAX_LINE_CHARS = 1024 * 1024
NOT_UTF8 = "the file is not UTF-8 text; save it as CSV UTF-8"
# After this many created or updated orders PostgreSQL's statistics of the tables may be
# far from the truth (autovacuum's analyze comes later, on its own schedule), and the
# dashboard's next query plan with them.
ANALYZE_AFTER_ROWS = 1000


class ImportFailed(Exception):
    """The file cannot be read on as an order CSV (not UTF-8, wrong header); the message
    names the line. The rows before that line are imported: `report` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report = ImportReport()


class LineTooLong(Exception):
    """A line longer than MAX_LINE_CHARS: skipped, and reported as its row's error."""


@dataclass
class ImportReport:
    summary: UpsertSummary = field(default_factory=UpsertSummary)
    rejected: int = 0
    analyzed: bool = False

    @property
    def rows(self) -> int:
        summary = self.summary
        return summary.created + summary.updated + summary.unchanged + self.rejected

    @property
    def changed(self) -> int:
        return self.summary.created + self.summary.updated

    def __str__(self) -> str:
        analyzed = "; table statistics refreshed" if self.analyzed else ""
        return f"{self.summary}, rejected {self.rejected}{analyzed}"


def orders_import_csv(
    *,
    file: IO[bytes],
    on_error: Callable[[str], None],
    on_batch: Callable[[], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Import a CSV file opened in binary mode (UTF-8, BOM or not, any line ends).

    Calls on_error with each `line N: field: reason`, and on_batch after each batch (for a
    progress bar). Raises ImportFailed when the file cannot be read as an order CSV.
    """
    report = ImportReport()
    # Bytes that are not UTF-8 are kept as they are (surrogateescape) and refused line by
    # line, so that the error names its line and the lines before it go in.
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = Lines(text)
    reader = csv.reader(lines)
    rows = _rows(reader, lines, _columns(reader))
    try:
        for batch in _batches(rows, report, on_error, batch_size):
            _flush(batch, report, on_error)
            if on_batch:
                on_batch()
    except ImportFailed as failure:
        failure.report = report
        report.analyzed = _analyze_after(report)
        raise
    report.analyzed = _analyze_after(report)
    return report


def _analyze_after(report: ImportReport) -> bool:
    """ANALYZE the tables an import writes, after a large one, on PostgreSQL. Raw SQL
    because the ORM cannot say it; it refreshes statistics and writes no data."""
    if report.changed < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql":
        return False
    tables = [model._meta.db_table for model in (Customer, Order, OrderItem, Invitation)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(map(connection.ops.quote_name, tables)))
    return True


def _batches(
    rows: Iterator[tuple[int, OrderRecord | RowInvalid]],
    report: ImportReport,
    on_error: Callable[[str], None],
    size: int,
) -> Iterator[list[tuple[int, OrderRecord]]]:
    """The good rows, a batch at a time; the bad ones reported on the way."""
    batch: list[tuple[int, OrderRecord]] = []
    seen: dict[str, int] = {}
    try:
        for line, row in rows:
            if isinstance(row, RowInvalid):
                _reject(report, on_error, line, row.errors)
                continue
            first = seen.setdefault(row.order_id, line)
            if first != line:
                reason = f"{row.order_id!r} already appears on line {first}; one row per order"
                _reject(report, on_error, line, [("order_id", reason)])
                continue
            batch.append((line, row))
            if len(batch) >= size:
                yield batch
                batch = []
    except ImportFailed:
        # The rows before an unreadable line are whole: they go in, as with any batch.
        yield batch
        raise
    yield batch


def _columns(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = next(reader, None)
    except (csv.Error, ImportFailed, LineTooLong) as error:
        raise ImportFailed(f"line 1: {_unreadable(error)}") from None
    columns = [name.strip().lower() for name in header or []]
    missing = [name for name in CSV_HEADER if name not in columns]
    if missing or len(set(columns)) != len(columns):
        # A spreadsheet set to a language that writes decimal commas saves "CSV" with
        # semicolons between the columns.
        semicolons = len(columns) == 1 and ";" in columns[0]
        raise ImportFailed(
            "line 1: header: "
            + ("the columns are separated by semicolons; use commas. " if semicolons else "")
            + f"expected the columns {','.join(CSV_HEADER)}"
            + (f"; missing {', '.join(missing)}" if missing else "; a column is repeated")
        )
    return columns


def _rows(
    reader: Iterator[list[str]], lines: "Lines", columns: list[str]
) -> Iterator[tuple[int, OrderRecord | RowInvalid]]:
    """(first line, record or its errors) per non-empty row."""
    while True:
        start = lines.number + 1
        try:
            cells = next(reader, None)
        except (csv.Error, LineTooLong) as error:
            yield start, RowInvalid([("row", _unreadable(error))])
            continue
        except ImportFailed as error:
            raise ImportFailed(f"line {start}: {error}") from None
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue  # an empty line
        if len(cells) != len(columns):
            yield start, RowInvalid([("row", _field_count(len(cells), len(columns)))])
            continue
        try:
            yield start, record_from_row(dict(zip(columns, cells, strict=True)))
        except RowInvalid as invalid:
            yield start, invalid


def _field_count(found: int, expected: int) -> str:
    reason = f"has {found} fields, the header has {expected}"
    if found > expected:
        reason += '; quote fields that contain commas, e.g. "García, Ana"'
    return reason


def _unreadable(error: Exception) -> str:
    if isinstance(error, ImportFailed | LineTooLong):
        return str(error)
    return f"not readable as CSV ({error})"


def _reject(report: ImportReport, on_error: Callable[[str], None], line: int, errors: list) -> None:
    report.rejected += 1
    for name, reason in errors:
        on_error(f"line {line}: {name}: {reason}")


def _flush(
    batch: list[tuple[int, OrderRecord]], report: ImportReport, on_error: Callable[[str], None]
) -> None:
    """One transaction for the batch. Rows that contradict the stored orders are reported
    and the batch goes in without them; should the database refuse a row's data, each row
    alone, so that the row it refuses does not keep the others out. (Any other database
    error, such as a lost connection, ends the import.)"""
    if not batch:
        return
    try:
        report.summary.merge(orders_upsert([record for _line, record in batch]))
        return
    except OrdersRefused as refused:
        # The records that contradict the stored orders are reported; the others go in.
        for line, record in batch:
            if record.order_id in refused.problems:
                _reject(report, on_error, line, [refused.problems[record.order_id]])
        rest = [(line, r) for line, r in batch if r.order_id not in refused.problems]
        _flush(rest, report, on_error)
        return
    except (DataError, IntegrityError):
        pass
    for line, record in batch:
        try:
            report.summary.merge(orders_upsert([record]))
        except OrdersRefused as refused:
            _reject(report, on_error, line, [refused.problems[record.order_id]])
        except (DataError, IntegrityError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
            _reject(report, on_error, line, [("row", f"the database refused it ({first})")])


class Lines:
    """The file's lines, each with its line end, as csv expects of a file opened with
    newline="", counted. A line that is too long is skipped and raises LineTooLong, and
    the next call goes on with the next line; a line that is not UTF-8 ends the import."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.number = 0  # of the last line handed out

    def __iter__(self) -> "Lines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS:
            self._skip_rest(line)
            raise LineTooLong(f"the line is longer than {MAX_LINE_CHARS:,} characters")
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise ImportFailed(NOT_UTF8) from None
        return line

    def _skip_rest(self, line: str) -> None:
        while line and not line.endswith(("\n", "\r")):
            line = self.text.readline(MAX_LINE_CHARS)
