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
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import DataError, IntegrityError

from feedback.ingest import CSV_HEADER, OrderRecord, RowInvalid, record_from_row
from feedback.services.orders import UpsertSummary, orders_upsert

DEFAULT_BATCH_SIZE = 1000
# A longer line is refused rather than held in memory (a binary file may have no newline).
MAX_LINE_CHARS = 1024 * 1024
NOT_UTF8 = "the file is not UTF-8 text; save it as CSV UTF-8"


class ImportFailed(Exception):
    """The file cannot be read on as an order CSV (not UTF-8, wrong header); the message
    names the line. The rows before that line are imported: `report` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.report = ImportReport()


@dataclass
class ImportReport:
    summary: UpsertSummary = field(default_factory=UpsertSummary)
    rejected: int = 0

    @property
    def rows(self) -> int:
        summary = self.summary
        return summary.created + summary.updated + summary.unchanged + self.rejected

    def __str__(self) -> str:
        return f"{self.summary}, rejected {self.rejected}"


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
    reader = csv.reader(_lines(text))
    rows = _rows(reader, _columns(reader))
    try:
        for batch in _batches(rows, report, on_error, batch_size):
            _flush(batch, report, on_error)
            if on_batch:
                on_batch()
    except ImportFailed as failure:
        failure.report = report
        raise
    return report


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
    except (csv.Error, ImportFailed) as error:
        raise ImportFailed(f"line 1: {_unreadable(error)}") from None
    columns = [name.strip().lower() for name in header or []]
    missing = [name for name in CSV_HEADER if name not in columns]
    if missing or len(set(columns)) != len(columns):
        raise ImportFailed(
            f"line 1: header: expected the columns {','.join(CSV_HEADER)}"
            + (f"; missing {', '.join(missing)}" if missing else "; a column is repeated")
        )
    return columns


def _rows(
    reader: Iterator[list[str]], columns: list[str]
) -> Iterator[tuple[int, OrderRecord | RowInvalid]]:
    """(first line, record or its errors) per non-empty row."""
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader, None)
        except (csv.Error, ImportFailed) as error:
            raise ImportFailed(f"line {start}: {_unreadable(error)}") from None
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue  # an empty line
        if len(cells) != len(columns):
            reason = f"has {len(cells)} fields, the header has {len(columns)}"
            yield start, RowInvalid([("row", reason)])
            continue
        try:
            yield start, record_from_row(dict(zip(columns, cells, strict=True)))
        except RowInvalid as invalid:
            yield start, invalid


def _unreadable(error: Exception) -> str:
    if isinstance(error, ImportFailed):
        return str(error)
    return f"not readable as CSV ({error})"


def _reject(report: ImportReport, on_error: Callable[[str], None], line: int, errors: list) -> None:
    report.rejected += 1
    for name, reason in errors:
        on_error(f"line {line}: {name}: {reason}")


def _flush(
    batch: list[tuple[int, OrderRecord]], report: ImportReport, on_error: Callable[[str], None]
) -> None:
    """One transaction for the batch; should the database refuse a row's data, each row
    alone, so that the row it refuses does not keep the others out. (Any other database
    error, such as a lost connection, ends the import.)"""
    if not batch:
        return
    try:
        report.summary.merge(orders_upsert([record for _line, record in batch]))
        return
    except (DataError, IntegrityError):
        pass
    for line, record in batch:
        try:
            report.summary.merge(orders_upsert([record]))
        except (DataError, IntegrityError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
            _reject(report, on_error, line, [("row", f"the database refused it ({first})")])


def _lines(text: IO[str]) -> Iterator[str]:
    """The file's lines, each with its line end, as csv expects of a file opened with
    newline=""; a line that is too long or not UTF-8 ends the import."""
    while line := text.readline(MAX_LINE_CHARS + 1):
        if len(line) > MAX_LINE_CHARS:
            raise ImportFailed(f"a line is longer than {MAX_LINE_CHARS:,} characters")
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise ImportFailed(NOT_UTF8) from None
        yield line
