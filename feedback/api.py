"""The REST API under /api/v1/ (DESIGN §6): orders in, delivery events, order status.

django-ninja builds the OpenAPI schema from these type hints and validates every request
against them with pydantic, naming each bad field; the field rules themselves are
feedback.ingest's, the same as the CSV import's, and writes go through the same
services (orders_upsert, order_mark_delivered).

Status codes: 400 unreadable JSON, 401 no or unknown token, 403 revoked token, 404 unknown
order, 405 wrong method, 413 body over API_MAX_BODY_BYTES, 415 not application/json, 422
invalid fields, 429 over the token's rate (with Retry-After). Never 500 for bad input.
"""

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Body, NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle
from pydantic import ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator

from feedback import ingest, ratelimit, services
from feedback.ingest import ItemRecord, OrderRecord
from feedback.models import ApiToken, Invitation, Order
from feedback.services import api_tokens
from feedback.services.orders import orders_upsert

MAX_ORDERS_PER_REQUEST = 1000
BODY_METHODS = ("POST", "PUT", "PATCH")
# What _text enforces, told to clients (and to schemathesis) in the schema.
PRINTABLE = {"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}


# Authentication and the per-token rate ---------------------------------------------------


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = api_tokens.api_token_find(token.strip())
        if api_token is None:
            return None  # 401
        if api_token.revoked_at is not None:
            raise AuthorizationError(message="This API token has been revoked.")
        api_tokens.api_token_touch(token=api_token)
        return api_token


class PerTokenRate(BaseThrottle):
    """A fixed window per token in the shared cache, like the customer pages' limits."""

    def allow_request(self, request: HttpRequest) -> bool:
        limit = ratelimit.Limit(
            f"api:{request.auth.pk}",
            limit=settings.API_RATE_PER_TOKEN,
            window=settings.API_RATE_WINDOW_SECONDS,
        )
        return ratelimit.allowed(count=[limit])

    def wait(self) -> float:
        window = settings.API_RATE_WINDOW_SECONDS
        return max(1.0, window - time.time() % window)


class OrdersApi(NinjaAPI):
    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        # ninja calls this after authentication and throttling and before it parses the
        # body: the one place to refuse an oversized or non-JSON body unread.
        _check_body(request)
        return super().create_temporal_response(request)


def _check_body(request: HttpRequest) -> None:
    if request.method not in BODY_METHODS:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "The Content-Length header is not a number.") from None
    if length > settings.API_MAX_BODY_BYTES:
        raise HttpError(413, f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.")
    media_type = request.content_type.lower()
    if length and media_type != "application/json":
        raise HttpError(415, f"Send application/json, not {media_type or 'no content type'}.")


api = OrdersApi(
    title="Feedback portal API",
    version="1",
    description="Orders and delivery events in; order and invitation status out. "
    "Authenticate with `Authorization: Bearer <token>` (tokens are issued in the admin).",
    urls_namespace="api-v1",
    auth=ApiTokenAuth(),
    throttle=PerTokenRate(),
    # Swagger UI from the package's own static files (ninja is in INSTALLED_APPS): no
    # CDN; and no validator badge, which would call a third-party server.
    docs=Swagger(settings={"validatorUrl": None}),
)


# Errors: JSON naming each bad field ---------------------------------------------------------


class FieldProblem(Schema):
    field: str = Field(description="e.g. `customer_email`, or `[3].items[0].quantity` in a list")
    message: str


class Error(Schema):
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


def _field_name(loc: list[Any]) -> str:
    # ninja's loc starts with ("body", "payload") and our union's tag ("one" / "many").
    parts = (
        [part for part in loc[2:] if part not in ("one", "many")] if loc[:1] == ["body"] else loc
    )
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _message(error: dict[str, Any]) -> str:
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {"field": _field_name(list(error.get("loc", []))), "message": _message(error)}
        for error in exc.errors
    ]
    return api.create_response(
        request, {"detail": "Some fields are not valid.", "errors": problems}, status=422
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Send a valid API token as `Authorization: Bearer <token>`."
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    detail = f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
    return api.create_response(request, {"detail": detail}, status=413)


ERRORS = {code: Error for code in (400, 401, 403, 413, 415, 422, 429)}


# Orders in ---------------------------------------------------------------------------------


def _text(value: object) -> object:
    return ingest.check_text(value) if isinstance(value, str) else value


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time string with an offset")
    return ingest.parse_datetime(value, required=False)


class StrictIn(Schema):
    # An unknown field is refused, not dropped: a typo such as "time_zone" for "timezone"
    # would otherwise lose data without a word.
    model_config = ConfigDict(extra="forbid")


class ItemIn(StrictIn):
    sku: str = Field(min_length=1, max_length=ingest.MAX_SKU, json_schema_extra=PRINTABLE)
    name: str = Field(min_length=1, max_length=ingest.MAX_ITEM_NAME, json_schema_extra=PRINTABLE)
    quantity: int = Field(ge=1, le=ingest.MAX_QUANTITY)

    _clean_text = field_validator("sku", "name", mode="before")(_text)


class OrderIn(StrictIn):
    """One order, with the fields of the CSV import (DESIGN §6); upserted by order_id."""

    order_id: str = Field(min_length=1, max_length=ingest.MAX_ORDER_ID, json_schema_extra=PRINTABLE)
    customer_email: str = Field(max_length=ingest.MAX_EMAIL, json_schema_extra={"format": "email"})
    customer_name: str = Field("", max_length=ingest.MAX_NAME, json_schema_extra=PRINTABLE)
    placed_at: datetime = Field(description="ISO 8601 with an offset")
    delivered_at: datetime | None = Field(None, description="ISO 8601 with an offset")
    items: list[ItemIn] = Field(min_length=1, max_length=ingest.MAX_ITEMS)
    locale: str = Field(
        "",
        max_length=10,
        description="a language of the site (es-ES means es); empty: the default",
        json_schema_extra={"examples": [code for code, _name in settings.LANGUAGES]},
    )
    timezone: str = Field(
        "",
        max_length=64,
        description="an IANA time zone name; empty: UTC",
        json_schema_extra={"examples": ["Europe/Madrid", "America/Mexico_City"]},
    )
    consent: Literal["yes", "no"] | None = Field(None, description="null: not stated")
    channel: str = Field("", max_length=ingest.MAX_CHANNEL, json_schema_extra=PRINTABLE)

    _clean_text = field_validator(
        "order_id",
        "customer_email",
        "customer_name",
        "locale",
        "timezone",
        "channel",
        mode="before",
    )(_text)
    _clean_moments = field_validator("placed_at", "delivered_at", mode="before")(_moment)

    @field_validator("order_id")
    @classmethod
    def _order_id(cls, value: str) -> str:
        return ingest.parse_order_id(value)

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return ingest.parse_email(value)

    @field_validator("customer_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return ingest.parse_name(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return ingest.parse_locale(value)

    @field_validator("timezone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        return ingest.parse_time_zone(value)

    @field_validator("delivered_at")
    @classmethod
    def _after_placed(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        ingest.check_dates(info.data.get("placed_at"), value)
        return value

    def record(self) -> OrderRecord:
        return OrderRecord(
            order_id=self.order_id,
            customer_email=self.customer_email,
            customer_name=self.customer_name,
            placed_at=self.placed_at,
            delivered_at=self.delivered_at,
            items=tuple(ItemRecord(i.sku, i.name, i.quantity) for i in self.items),
            locale=self.locale,
            time_zone=self.timezone,
            consent=ingest.parse_consent(self.consent or ""),
            channel=self.channel,
        )


def _one_or_many(value: object) -> str:
    return "many" if isinstance(value, list) else "one"


OrdersBody = Annotated[
    Annotated[OrderIn, Tag("one")]
    | Annotated[list[OrderIn], Tag("many"), Field(min_length=1, max_length=MAX_ORDERS_PER_REQUEST)],
    Discriminator(_one_or_many),
]


class UpsertOut(Schema):
    received: int = Field(description="orders in the request (repeated order ids count once)")
    created: int
    updated: int
    unchanged: int


@api.post(
    "/orders",
    response={200: UpsertOut, **ERRORS},
    summary="Create or update orders",
    tags=["orders"],
)
def orders_post(request: HttpRequest, payload: Annotated[OrdersBody, Body()]) -> UpsertOut:
    """One order, or a list of up to 1,000. Upsert by `order_id`: the customer's fields
    create or update the customer (by email), and the items replace the order's items.
    A delivered order gets its one invitation scheduled (or suppressed, with a reason).
    All or nothing: one invalid order rejects the whole request with 422."""
    orders = payload if isinstance(payload, list) else [payload]
    summary = orders_upsert([order.record() for order in orders])
    return UpsertOut(
        received=summary.created + summary.updated + summary.unchanged,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
    )


# Delivery and status -----------------------------------------------------------------------


class ItemOut(Schema):
    sku: str
    name: str
    quantity: int


class InvitationOut(Schema):
    state: str = Field(description="scheduled, sending, sent, responded, declined, ...")
    suppression_reason: str = Field(description="why it will not be sent; empty otherwise")
    due_at: datetime
    expires_at: datetime | None
    sent_at: datetime | None
    responded_at: datetime | None
    declined_at: datetime | None


class OrderOut(Schema):
    order_id: str
    placed_at: datetime
    delivered_at: datetime | None
    channel: str
    items: list[ItemOut]
    invitation: InvitationOut | None


class DeliveredIn(StrictIn):
    delivered_at: datetime | None = Field(None, description="ISO 8601 with an offset; null: now")

    _clean_moments = field_validator("delivered_at", mode="before")(_moment)


def _order(order_id: str) -> Order:
    try:
        external_id = ingest.parse_order_id(order_id)
    except ingest.FieldError:
        raise HttpError(404, "No order has this order_id.") from None
    return get_object_or_404(Order.objects.select_related("customer"), external_id=external_id)


def _order_out(order: Order) -> OrderOut:
    invitation = Invitation.objects.filter(order=order).first()
    return OrderOut(
        order_id=order.external_id,
        placed_at=order.placed_at,
        delivered_at=order.delivered_at,
        channel=order.channel,
        items=[ItemOut(sku=i.sku, name=i.name, quantity=i.quantity) for i in order.items.all()],
        invitation=InvitationOut(
            state=invitation.state,
            suppression_reason=invitation.suppression_reason,
            due_at=invitation.due_at,
            expires_at=invitation.expires_at,
            sent_at=invitation.sent_at,
            responded_at=invitation.responded_at,
            declined_at=invitation.declined_at,
        )
        if invitation
        else None,
    )


@api.post(
    "/orders/{order_id}/delivered",
    response={200: OrderOut, 404: Error, **ERRORS},
    summary="Mark an order delivered",
    tags=["orders"],
)
def order_delivered(
    request: HttpRequest, order_id: str, payload: Annotated[DeliveredIn | None, Body()] = None
) -> OrderOut:
    """Record the delivery (the body may be empty: delivered now) and schedule the order's
    one invitation. Idempotent: a repeat, or a concurrent call, changes nothing and still
    gives one invitation; the first delivery time is kept."""
    order = _order(order_id)
    delivered_at = (payload.delivered_at if payload else None) or timezone.now()
    if delivered_at < order.placed_at:
        raise ValidationError(
            [{"loc": ["body", "payload", "delivered_at"], "msg": "is before placed_at"}]
        )
    services.order_mark_delivered(order=order, delivered_at=delivered_at)
    return _order_out(order)


@api.get(
    "/orders/{order_id}",
    response={200: OrderOut, 404: Error, **ERRORS},
    summary="An order and its invitation",
    tags=["orders"],
)
def order_status(request: HttpRequest, order_id: str) -> OrderOut:
    """The order, its items and its invitation's state; never the customer's answer."""
    return _order_out(_order(order_id))
