"""The shared field validation: each bad value is refused with a message naming why."""

from datetime import UTC, datetime, timedelta

import pytest

from feedback import ingest
from feedback.ingest import FieldError, ItemRecord, RowInvalid

GOOD_ROW = {
    "order_id": " A-1 ",
    "customer_email": " Ana.Garcia@Example.COM ",
    "customer_name": "García,  Ana",
    "placed_at": "2025-03-01T10:00:00+01:00",
    "delivered_at": "2025-03-03T16:30:00Z",
    "items": "SKU-1|Burr grinder|1;SKU-2|Paper filters|3;",
    "locale": "es-ES",
    "timezone": "Europe/Madrid",
    "consent": "Yes",
}


def test_it_turns_a_good_row_into_a_clean_record() -> None:
    record = ingest.record_from_row(GOOD_ROW)
    assert record.order_id == "A-1"
    assert record.customer_email == "ana.garcia@example.com"
    assert record.customer_name == "García, Ana"
    assert record.placed_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert record.delivered_at == datetime(2025, 3, 3, 16, 30, tzinfo=UTC)
    assert record.items == (
        ItemRecord("SKU-1", "Burr grinder", 1),
        ItemRecord("SKU-2", "Paper filters", 3),
    )
    assert (record.locale, record.time_zone, record.consent) == ("es", "Europe/Madrid", "given")


def test_it_names_every_bad_field_of_a_row() -> None:
    row = {
        **GOOD_ROW,
        "customer_email": "ana@",
        "placed_at": "01/03/2025",
        "timezone": "Mars/Olympus",
        "locale": "fr",
        "consent": "maybe",
        "items": "SKU-1|Grinder",
    }
    with pytest.raises(RowInvalid) as caught:
        ingest.record_from_row(row)
    fields = [field for field, _reason in caught.value.errors]
    assert fields == ["customer_email", "placed_at", "items", "locale", "timezone", "consent"]
    text = str(caught.value)
    assert "'ana@' is not a valid email address" in text
    assert "'Mars/Olympus' is not an IANA time zone" in text
    assert "use one of: en, es" in text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-03-01T10:00:00", "has no UTC offset"),
        ("2025-02-30T10:00:00+00:00", "is not an ISO 8601 date"),
        ("yesterday", "is not an ISO 8601 date"),
        ("", "is required"),
    ],
)
def test_it_refuses_a_moment_without_a_date_and_offset(value: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        ingest.parse_datetime(value)


def test_it_accepts_an_offset_or_z() -> None:
    assert ingest.parse_datetime("2025-03-01T10:00:00-05:00") == datetime(
        2025, 3, 1, 15, tzinfo=UTC
    )
    assert ingest.parse_datetime("2025-03-01T10:00:00Z") == datetime(2025, 3, 1, 10, tzinfo=UTC)
    # Offsets RFC 3339 allows but PostgreSQL does not store are read as the moment they mean.
    assert ingest.parse_datetime("2025-03-01T10:00:00+23:30").tzinfo == UTC


def test_an_empty_delivery_is_not_delivered_yet() -> None:
    assert ingest.parse_datetime("", required=False) is None
    assert ingest.record_from_row({**GOOD_ROW, "delivered_at": "  "}).delivered_at is None


@pytest.mark.parametrize(
    "value", ["2025-03-01 10:00:00+01:00", "2025-03-01T10:00+01:00", "2025-03-01T10:00:00+0100"]
)
def test_a_moment_is_written_as_rfc_3339(value: str) -> None:
    with pytest.raises(FieldError, match="write it as 2025-03-01T14:30:00"):
        ingest.parse_datetime(value)


def test_a_delivery_in_the_future_is_refused() -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with pytest.raises(RowInvalid, match="delivered_at: is in the future"):
        ingest.record_from_row({**GOOD_ROW, "delivered_at": tomorrow})


def test_it_refuses_a_delivery_before_the_order() -> None:
    row = {**GOOD_ROW, "delivered_at": "2025-02-28T10:00:00+00:00"}
    with pytest.raises(RowInvalid, match="delivered_at: is before placed_at"):
        ingest.record_from_row(row)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "at least one item is required"),
        ("SKU-1|Grinder|0", "item 1: the quantity must be between 1 and"),
        ("SKU-1|Grinder|2;SKU-2|Kettle|two", "item 2: the quantity 'two' is not a whole number"),
        ("|Grinder|1", "item 1: the SKU must have"),
        ("SKU-1||1", "item 1: the name must have"),
        ("SKU-1|Grinder|1|extra", "item 1 'SKU-1|Grinder|1|extra' is not sku|name|qty"),
    ],
)
def test_it_explains_a_bad_item_list(value: str, message: str) -> None:
    with pytest.raises(FieldError, match=message.replace("|", r"\|")):
        ingest.parse_items(value)


@pytest.mark.parametrize("value", ["ana", "ana@example", "ana @example.com", "a@b@example.com"])
def test_it_refuses_a_bad_email(value: str) -> None:
    with pytest.raises(FieldError, match="is not a valid email address"):
        ingest.parse_email(value)


def test_locale_time_zone_and_consent_have_sensible_empties() -> None:
    assert ingest.parse_locale("") == "en"
    assert ingest.parse_locale("ES_mx") == "es"
    assert ingest.parse_time_zone("") == "UTC"
    assert ingest.parse_consent("") is None
    assert ingest.parse_consent("NO") == "not_given"


@pytest.mark.parametrize(
    "value",
    ["../../etc/passwd", "Europe/Nowhere", "utc+1", "Europe/", "localtime", "Factory", "EST5EDT"],
)
def test_it_takes_only_iana_time_zone_names(value: str) -> None:
    with pytest.raises(FieldError, match="is not an IANA time zone name"):
        ingest.parse_time_zone(value)


@pytest.mark.parametrize("value", ["UTC", "Europe/Madrid", "America/Argentina/Buenos_Aires"])
def test_it_takes_the_zones_of_places_and_utc(value: str) -> None:
    assert ingest.parse_time_zone(value) == value


@pytest.mark.parametrize("value", ["A/1", "A?1", "#1001", "A 1", "A\u3000" + "1", "50%", ".."])
def test_an_order_id_must_fit_in_the_order_urls(value: str) -> None:
    with pytest.raises(FieldError, match="part of the order's URLs"):
        ingest.parse_order_id(value)


def test_it_refuses_values_longer_than_their_column() -> None:
    with pytest.raises(FieldError, match="longer than 100 characters"):
        ingest.parse_order_id("A" * 101)
    with pytest.raises(FieldError, match="longer than 200 characters"):
        ingest.parse_name("n" * 201)
