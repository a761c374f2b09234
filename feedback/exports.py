"""The responses CSV: streamed row by row, so a million rows never sit in memory.

It opens right in Excel: UTF-8 with a byte-order mark (without one, Excel reads the file
in the computer's legacy code page and garbles "é"), and times as ISO 8601 in UTC to the
second, e.g. 2026-11-30T14:05:09+00:00, which Excel and people both read.

No customer email or name: an export travels (mail, laptops, spreadsheets), and staff who
must reach a customer do it from the contact queue, which holds only those who asked.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from feedback.models import OrderItem
from feedback.selectors.dashboard import Filters, responses

HEADER = [
    "response_id",
    "submitted_at",
    "edited_at",
    "order_id",
    "channel",
    "skus",
    "rating",
    "nps",
    "comment",
    "contact_requested",
    "quote_allowed",
]
# Rows per database round trip; also the batch whose SKUs are read in one query.
CHUNK_SIZE = 2000
# A spreadsheet runs a cell that starts with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"


def csv_safe(value: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


COLUMNS = (
    "pk",
    "submitted_at",
    "edited_at",
    "invitation__order_id",
    "invitation__order__external_id",
    "invitation__order__channel",
    "rating",
    "nps",
    "comment",
    "contact_requested",
    "quote_allowed",
)


def export_rows(filters: Filters) -> Iterator[list[object]]:
    """The header, then one row per response, oldest first. Plain tuples read in chunks (a
    server-side cursor on PostgreSQL), and one more query per chunk for its SKUs."""
    rows = responses(filters).order_by("submitted_at", "pk").values_list(*COLUMNS)
    yield HEADER
    iterator = rows.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        skus = _skus_by_order([row[3] for row in chunk])
        for row in chunk:
            yield export_row(row, skus.get(row[3], ""))


def _skus_by_order(order_ids: list[int]) -> dict[int, str]:
    skus: dict[int, list[str]] = defaultdict(list)
    items = OrderItem.objects.filter(order_id__in=order_ids).order_by("order_id", "pk")
    for order_id, sku in items.values_list("order_id", "sku"):
        skus[order_id].append(sku)
    return {order_id: ";".join(names) for order_id, names in skus.items()}


def export_row(row: tuple, skus: str) -> list[object]:
    pk, submitted, edited, _order, external_id, channel, rating, nps, comment, contact, quote = row
    return [
        pk,
        _moment(submitted),
        _moment(edited),
        csv_safe(external_id),
        csv_safe(channel),
        csv_safe(skus),
        rating,
        "" if nps is None else nps,
        csv_safe(comment),
        _yes_no(contact),
        _yes_no(quote),
    ]


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[object]]) -> Iterator[str]:
    """The file's text, a line at a time, after the byte-order mark."""
    yield BYTE_ORDER_MARK
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
