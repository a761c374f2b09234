"""The responses CSV: streamed row by row, so a million rows never sit in memory.

No customer email or name: an export travels (mail, laptops, spreadsheets), and staff who
must reach a customer do it from the contact queue, which holds only those who asked.
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import Prefetch

from feedback.dashboard import Filters, responses
from feedback.models import OrderItem, Response

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
# Rows per database round trip; also the prefetch batch for the order items.
CHUNK_SIZE = 2000
# A spreadsheet runs a cell that starts with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def export_row(response: Response) -> list[object]:
    order = response.invitation.order
    skus = ";".join(item.sku for item in order.items.all())
    return [
        response.pk,
        response.submitted_at.isoformat(),
        response.edited_at.isoformat() if response.edited_at else "",
        csv_safe(order.external_id),
        csv_safe(order.channel),
        csv_safe(skus),
        response.rating,
        "" if response.nps is None else response.nps,
        csv_safe(response.comment),
        _yes_no(response.contact_requested),
        _yes_no(response.quote_allowed),
    ]


def export_rows(filters: Filters) -> Iterator[list[object]]:
    """The header, then one row per response, read in chunks (a server-side cursor on
    PostgreSQL) with each chunk's order items fetched in one more query."""
    items = Prefetch("invitation__order__items", queryset=OrderItem.objects.order_by("pk"))
    rows = (
        responses(filters)
        .select_related("invitation__order")
        .prefetch_related(items)
        .order_by("submitted_at", "pk")
    )
    yield HEADER
    for response in rows.iterator(chunk_size=CHUNK_SIZE):
        yield export_row(response)


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
