"""Field validation for orders coming in, shared by the CSV import and the REST API.

Each `parse_*` helper takes what the outside world sent (a CSV cell or a JSON value) and
returns the clean value, or raises FieldError with a message meant for the person who
sent it. FieldError is a ValueError, so pydantic validators pass its message through.
`record_from_row` turns one CSV row (the DESIGN §6 header) into an OrderRecord, or
raises RowInvalid naming every bad field. The records are defined here, where they are
built; feedback.services.orders writes them.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from feedback.models import Customer

CSV_HEADER = (
    "order_id",
    "customer_email",
    "customer_name",
    "placed_at",
    "delivered_at",
    "items",
    "locale",
    "timezone",
    "consent",
)
# The model's column sizes: longer values are refused with a message, never cut.
MAX_ORDER_ID, MAX_NAME, MAX_EMAIL, MAX_CHANNEL = 100, 200, 254, 100
MAX_SKU, MAX_ITEM_NAME, MAX_QUANTITY, MAX_ITEMS = 100, 300, 100_000, 500
CONSENT = {"yes": Customer.Consent.GIVEN, "no": Customer.Consent.NOT_GIVEN}
# Dates outside these years are typing mistakes, and the far ends of the calendar would
# overflow when converted to UTC.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
# A moment as RFC 3339 writes it (ISO 8601 with seconds and an offset), in those years.
# The REST API's schema declares this pattern, so the API and its clients agree on it.
MOMENT_REGEX = (
    r"(?:20\d\d|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
)
# A delivery may be stamped a little ahead of our clock by a sender whose clock is ahead.
CLOCK_SKEW = timedelta(minutes=5)
# An order id stands as it is in the order URLs (/api/v1/orders/<order_id>/delivered), so it
# may not contain what changes how a URL is read: the path, query and fragment delimiters
# / ? #, the escape character %, and \ (which browsers read as /); nor what nobody can see:
# control characters, whitespace (Unicode's White_Space) and the byte order mark a
# spreadsheet may leave. Nor may it be dots only: "." and ".." are steps in a path. One
# pattern for the CSV import, the REST API's schema and its URL converter.
_NOT_IN_ORDER_ID = (
    r"/?#%\\\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
ORDER_ID_REGEX = rf"[^{_NOT_IN_ORDER_ID}]*[^{_NOT_IN_ORDER_ID}.][^{_NOT_IN_ORDER_ID}]*"
# Real IANA time zones: the "Area/Location" names, and UTC. available_timezones() also lists
# names that are not a place's zone: "localtime" (whatever the server is set to), "Factory"
# (a placeholder for "not set"), POSIX rules such as "EST5EDT", and legacy aliases such as
# "Japan" or "GMT". It reads the time zone files (about 10 ms a call): once, at import.
TIME_ZONES = frozenset(name for name in available_timezones() if "/" in name) | {"UTC"}


@dataclass(frozen=True)
class ItemRecord:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class OrderRecord:
    """One order as a sender gave it, checked: what orders_upsert writes."""

    order_id: str
    customer_email: str
    customer_name: str
    placed_at: datetime  # aware
    delivered_at: datetime | None  # aware
    items: tuple[ItemRecord, ...]
    # None: not stated (the shop platforms' webhooks may not know them): a known
    # customer's stays as it is, a new customer gets the site's language and UTC.
    locale: str | None
    time_zone: str | None
    # Customer.Consent value ("given" / "not_given"), or None: leave as is (new: unknown).
    consent: str | None
    channel: str = ""


class FieldError(ValueError):
    """One field's value is not acceptable; the message says why, for the sender."""


class RowInvalid(ValueError):
    """A row with one or more bad fields: [(field, reason), ...]."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))
        self.errors = errors


def check_text(value: str) -> str:
    """Text PostgreSQL can store and people can read: no control characters (NUL, line
    breaks...) and no lone UTF-16 surrogates, which are not valid UTF-8."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise FieldError("contains control characters or invalid characters")
    return value


def parse_order_id(value: str) -> str:
    """Up to 100 characters, none that an order URL cannot carry (ORDER_ID_REGEX)."""
    if not value:
        raise FieldError("is required")
    if len(value) > MAX_ORDER_ID:
        raise FieldError(f"is longer than {MAX_ORDER_ID} characters")
    if not re.fullmatch(ORDER_ID_REGEX, value):
        raise FieldError(
            "may not contain spaces, control characters or any of / ? # % \\, "
            "nor be dots only: it is part of the order's URLs"
        )
    return check_text(value)


def normalise_email(value: str) -> str:
    """The one spelling customers are stored under, so a mailbox is one customer: trimmed,
    lower-cased, the domain in its ASCII (IDNA) form: "Ana@EXÄMPLE.com" and
    "ana@xn--exmple-cua.com" are both "ana@xn--exmple-cua.com". Raises UnicodeError (a
    ValueError) for a domain that has no ASCII form."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return value.strip().lower()
    # Python's "idna" codec (IDNA 2003) is also how Django's mail sending spells a domain.
    return f"{local}@{domain.encode('idna').decode('ascii')}".lower()


def parse_email(value: str) -> str:
    """The normalised address (normalise_email), as customers are stored."""
    try:
        value = normalise_email(value or "")
    except UnicodeError:
        raise FieldError(f"{value!r} is not a valid email address") from None
    if not value:
        raise FieldError("is required")
    if len(value) > MAX_EMAIL:
        raise FieldError(f"is longer than {MAX_EMAIL} characters")
    try:
        validate_email(value)
    except ValidationError:
        raise FieldError(f"{value!r} is not a valid email address") from None
    return value


def parse_name(value: str, *, limit: int = MAX_NAME) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise FieldError(f"is longer than {limit} characters")
    return check_text(value)


def parse_datetime(value: str, *, required: bool = True) -> datetime | None:
    """A moment as RFC 3339 writes it (MOMENT_REGEX), e.g. 2025-03-01T14:30:00+01:00 or
    2025-03-01T13:30:00Z: not a wall-clock time of unknown zone."""
    if not value:
        if required:
            raise FieldError("is required")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(
            f"{value!r} is not an ISO 8601 date and time, e.g. 2025-03-01T14:30:00+01:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FieldError(f"{value!r} has no UTC offset; add one, e.g. +01:00 or Z")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise FieldError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    if not re.fullmatch(MOMENT_REGEX, value):
        raise FieldError(f"{value!r}: write it as 2025-03-01T14:30:00+01:00 (RFC 3339)")
    # In UTC: PostgreSQL takes offsets up to 15:59, RFC 3339 writes them up to 23:59.
    return moment.astimezone(UTC)


def parse_items(value: str) -> tuple[ItemRecord, ...]:
    """`sku|name|qty;sku|name|qty`: at least one item; a trailing `;` is fine."""
    parts = [part for part in (value or "").split(";") if part.strip()]
    if not parts:
        raise FieldError("at least one item is required, as sku|name|qty;sku|name|qty")
    if len(parts) > MAX_ITEMS:
        raise FieldError(f"more than {MAX_ITEMS} items")
    return tuple(_item(number, part) for number, part in enumerate(parts, start=1))


def _item(number: int, text: str) -> ItemRecord:
    fields = text.split("|")
    if len(fields) != 3:
        raise FieldError(f"item {number} {text.strip()!r} is not sku|name|qty")
    sku, name, quantity = (field.strip() for field in fields)
    return item_record(sku, name, quantity, where=f"item {number}")


def item_record(sku: str, name: str, quantity: object, *, where: str = "item") -> ItemRecord:
    """One item's fields checked; the API validates its JSON items with this too."""
    if not sku or len(sku) > MAX_SKU:
        raise FieldError(f"{where}: the SKU must have 1 to {MAX_SKU} characters")
    if not name or len(name) > MAX_ITEM_NAME:
        raise FieldError(f"{where}: the name must have 1 to {MAX_ITEM_NAME} characters")
    try:
        check_text(sku + name)
    except FieldError as error:
        raise FieldError(f"{where}: {error}") from None
    return ItemRecord(sku=sku, name=name, quantity=parse_quantity(quantity, where=where))


def parse_quantity(value: object, *, where: str = "item") -> int:
    if isinstance(value, bool):
        raise FieldError(f"{where}: the quantity must be a whole number")
    try:
        quantity = int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise FieldError(f"{where}: the quantity {value!r} is not a whole number") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise FieldError(f"{where}: the quantity must be between 1 and {MAX_QUANTITY}")
    return quantity


def locale_regex() -> str:
    """A language of settings.LANGUAGES, in any case, with optional subtags (es-ES, es_MX)."""
    languages = [code for code, _name in settings.LANGUAGES]
    either_case = ["".join(f"[{c.lower()}{c.upper()}]" for c in code) for code in languages]
    return rf"(?:{'|'.join(either_case)})(?:[-_][A-Za-z0-9]{{1,8}})*"


def parse_locale(value: str) -> str:
    """A language of settings.LANGUAGES; a regional form (es-ES, es_MX) means its language.
    Empty means the site's default language."""
    if not value:
        return settings.LANGUAGE_CODE.split("-")[0]
    if not re.fullmatch(locale_regex(), value):
        known = ", ".join(code for code, _name in settings.LANGUAGES)
        raise FieldError(f"{value!r} is not a supported locale; use one of: {known}")
    return re.split("[-_]", value)[0].lower()


def parse_time_zone(value: str) -> str:
    """An IANA time zone name such as Europe/Madrid (TIME_ZONES); empty means UTC."""
    if not value:
        return "UTC"
    if value not in TIME_ZONES:
        raise FieldError(f"{value!r} is not an IANA time zone name, e.g. Europe/Madrid")
    return value


def parse_consent(value: str) -> str | None:
    """yes / no, or empty for "not stated" (an existing customer's consent is kept)."""
    value = (value or "").lower()
    if not value:
        return None
    if value not in CONSENT:
        raise FieldError(f"{value!r} is not yes, no or empty")
    return CONSENT[value]


def check_delivery(placed_at: datetime | None, delivered_at: datetime | None) -> None:
    """The rules of a delivery time (a FieldError for delivered_at): not before the order
    was placed, and not in the future, give or take CLOCK_SKEW."""
    if delivered_at is None:
        return
    if placed_at is not None and delivered_at < placed_at:
        raise FieldError("is before placed_at")
    now = timezone.now()
    if delivered_at > now + CLOCK_SKEW:
        raise FieldError(f"is in the future (it is now {now:%Y-%m-%dT%H:%M:%SZ})")


def record_from_row(row: Mapping[str, str], *, channel: str = "") -> OrderRecord:
    """One CSV row (DESIGN §6 header) as an OrderRecord; RowInvalid names each bad field.
    Spaces around a cell are not part of its value."""
    errors: list[tuple[str, str]] = []

    def field(name: str, parse: object, *args: object, **kwargs: object) -> object:
        try:
            return parse((row.get(name) or "").strip(), *args, **kwargs)
        except FieldError as error:
            errors.append((name, str(error)))
            return None

    values = {
        "order_id": field("order_id", parse_order_id),
        "customer_email": field("customer_email", parse_email),
        "customer_name": field("customer_name", parse_name),
        "placed_at": field("placed_at", parse_datetime),
        "delivered_at": field("delivered_at", parse_datetime, required=False),
        "items": field("items", parse_items),
        "locale": field("locale", parse_locale),
        "time_zone": field("timezone", parse_time_zone),
        "consent": field("consent", parse_consent),
    }
    try:
        check_delivery(values["placed_at"], values["delivered_at"])
    except FieldError as error:
        errors.append(("delivered_at", str(error)))
    if errors:
        raise RowInvalid(errors)
    return OrderRecord(**values, channel=channel)
