"""The REST API under /api/v1/ (DESIGN §6): orders in, delivery events, order status.

django-ninja builds the OpenAPI schema from these type hints and validates every request
against them with pydantic, naming each bad field; the field rules themselves are
feedback.ingest's, the same as the CSV import's, and writes go through the same
services (orders_upsert, order_mark_delivered).

Status codes: 400 unreadable JSON, 401 no or unknown token, 403 revoked token, 404 unknown
order or URL, 405 wrong method, 409 at odds with what is stored (a second, different
delivery time; an order placed after its recorded delivery), 413 body over
API_MAX_BODY_BYTES, 415 not application/json, 422 invalid fields, 429 over the token's rate
(with Retry-After). Every one is JSON. Never 500 for bad input.

The schema declares every rule a single field has (types, lengths, bounds, patterns,
formats, enums), so that a client can check a request before sending it. Three rules JSON
Schema cannot state are in the descriptions: delivered_at not before placed_at and not in
the future, and that an integer is written without a fraction (2, not 2.0).
"""

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path, register_converter
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import Body, NinjaAPI, Path, Schema, Status
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle
from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from feedback import ingest, ratelimit, services
from feedback.ingest import ItemRecord, OrderRecord
from feedback.models import ApiToken, Invitation, Order
from feedback.services import api_tokens
from feedback.services.orders import OrdersRefused, orders_upsert

MAX_ORDERS_PER_REQUEST = 1000
BODY_METHODS = ("POST", "PUT", "PATCH")
# What _text enforces, told to clients (and to schemathesis) in the schema.
PRINTABLE = {"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}
ORDER_ID_PATTERN = f"^{ingest.ORDER_ID_REGEX}$"
# What ingest.parse_datetime takes; the union with null keeps the pattern on the string.
MOMENT = WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": f"^{ingest.MOMENT_REGEX}$"}
)


class OrderIdConverter:
    """The order URLs take only ids that ingest.parse_order_id accepts: any other path is
    an unknown URL (a JSON 404), never a different order."""

    regex = ingest.ORDER_ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderIdConverter, "order_id")


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

    @property
    def urls(self) -> tuple[list[URLPattern | URLResolver], str, str]:
        # Django answers a wrong method (405) and an unknown URL (404) in plain text; an
        # API client expects JSON, so ninja's views are wrapped and a last pattern catches
        # every other URL under the API's prefix.
        patterns, app_name, namespace = super().urls
        wrapped = [
            path(str(pattern.pattern), _json_405(pattern.callback), name=pattern.name)
            for pattern in patterns
        ]
        return [*wrapped, re_path(r"", _unknown_url)], app_name, namespace


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)  # keeps csrf_exempt
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response["Allow"]
        detail = f"{request.method} is not allowed here; use {allowed}."
        json_response = api.create_response(request, {"detail": detail}, status=405)
        json_response["Allow"] = allowed
        return json_response

    return wrapper


@csrf_exempt  # as ninja's views are: the API authenticates by token, not by cookie
def _unknown_url(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    detail = (
        "No such URL. Orders are at /api/v1/orders/<order_id>, whose order_id has no spaces, "
        "control characters or / ? # % \\."
    )
    return api.create_response(request, {"detail": detail}, status=404)


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


class DeliveryConflict(Schema):
    detail: str
    delivered_at: datetime = Field(description="the delivery time on record, which is kept")
    requested_delivered_at: datetime = Field(description="the different time this request sent")


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
    if not isinstance(value, str) or not value:
        raise ValueError("must be an ISO 8601 date and time string with an offset, or null")
    return ingest.parse_datetime(value)


class StrictIn(Schema):
    # An unknown field is refused, not dropped: a typo such as "time_zone" for "timezone"
    # would otherwise lose data without a word.
    model_config = ConfigDict(extra="forbid")


class ItemIn(StrictIn):
    sku: str = Field(min_length=1, max_length=ingest.MAX_SKU, json_schema_extra=PRINTABLE)
    name: str = Field(min_length=1, max_length=ingest.MAX_ITEM_NAME, json_schema_extra=PRINTABLE)
    # Strict: true, "5" and 5.0 are refused, not read as numbers. (JSON Schema counts 5.0
    # as an integer, so the schema cannot say this; its description does.)
    quantity: StrictInt = Field(
        ge=1,
        le=ingest.MAX_QUANTITY,
        description='a JSON integer, written without a fraction: 2, not 2.0, "2" or true',
    )

    _clean_text = field_validator("sku", "name", mode="before")(_text)


class OrderIn(StrictIn):
    """One order, with the fields of the CSV import (DESIGN §6); upserted by order_id."""

    order_id: str = Field(
        min_length=1,
        max_length=ingest.MAX_ORDER_ID,
        description="part of the order's URLs: no spaces, control characters or / ? # % \\, "
        "and not dots only",
        json_schema_extra={"pattern": ORDER_ID_PATTERN},
    )
    customer_email: str = Field(max_length=ingest.MAX_EMAIL, json_schema_extra={"format": "email"})
    customer_name: str = Field("", max_length=ingest.MAX_NAME, json_schema_extra=PRINTABLE)
    placed_at: Annotated[datetime, MOMENT] = Field(
        description="RFC 3339 (ISO 8601 with an offset), years 2000 to 2100"
    )
    delivered_at: Annotated[datetime, MOMENT] | None = Field(
        None,
        description="RFC 3339; not before placed_at, nor more than 5 minutes in the future; "
        "null: not delivered yet",
    )
    items: list[ItemIn] = Field(min_length=1, max_length=ingest.MAX_ITEMS)
    locale: str = Field(
        "",
        max_length=10,
        description="a language of the site (es-ES means es); empty: the default",
        json_schema_extra={
            "pattern": f"^(?:{ingest.locale_regex()})?$",
            "examples": [code for code, _name in settings.LANGUAGES],
        },
    )
    timezone: str = Field(
        "",
        description="an IANA time zone name (Area/Location, or UTC); empty: UTC",
        json_schema_extra={"enum": ["", *sorted(ingest.TIME_ZONES)]},
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
    def _delivery(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        ingest.check_delivery(info.data.get("placed_at"), value)
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
    response={200: UpsertOut, 409: Error, **ERRORS},
    summary="Create or update orders",
    tags=["orders"],
)
def orders_post(
    request: HttpRequest, payload: Annotated[OrdersBody, Body()]
) -> Status[UpsertOut | Error]:
    """One order, or a list of up to 1,000. Upsert by `order_id`: the customer's fields
    create or update the customer (by email), and the items replace the order's items.
    A delivered order gets its one invitation scheduled (or suppressed, with a reason).
    All or nothing: one invalid order rejects the whole request with 422, and one that
    contradicts what is stored (placed after its recorded delivery) with 409."""
    orders = payload if isinstance(payload, list) else [payload]
    try:
        summary = orders_upsert([order.record() for order in orders])
    except OrdersRefused as refused:
        return Status(409, _refused(refused, orders, many=isinstance(payload, list)))
    return Status(
        200,
        UpsertOut(
            received=summary.created + summary.updated + summary.unchanged,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        ),
    )


def _refused(refused: OrdersRefused, orders: list[OrderIn], *, many: bool) -> Error:
    """The orders that contradict the stored ones, each named as a 422 names a field."""
    problems = []
    for index, order in enumerate(orders):
        if order.order_id in refused.problems:
            field, reason = refused.problems[order.order_id]
            problems.append(
                FieldProblem(field=f"[{index}].{field}" if many else field, message=reason)
            )
    detail = "Some orders contradict what is stored; nothing was written."
    return Error(detail=detail, errors=problems)


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
    delivered_at: Annotated[datetime, MOMENT] | None = Field(
        None,
        description="RFC 3339; not before the order was placed, nor more than 5 minutes in "
        "the future; null: now",
    )

    _clean_moments = field_validator("delivered_at", mode="before")(_moment)


def _order(order_id: str) -> Order:
    # OrderIdConverter routed only ids parse_order_id takes.
    order = Order.objects.select_related("customer").filter(external_id=order_id).first()
    if order is None:
        raise HttpError(404, "No order has this order_id.")
    return order


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


# The order URLs' order_id: routed by OrderIdConverter, declared here for the schema.
OrderId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=ingest.MAX_ORDER_ID,
        pattern=ORDER_ID_PATTERN,
        description="the order_id the order was sent with",
        example="SHOP-1001",
    ),
]


@api.post(
    "/orders/{order_id:order_id}/delivered",
    response={200: OrderOut, 404: Error, 409: DeliveryConflict, **ERRORS},
    summary="Mark an order delivered",
    tags=["orders"],
)
def order_delivered(
    request: HttpRequest, order_id: OrderId, payload: Annotated[DeliveredIn | None, Body()] = None
) -> Status[OrderOut | DeliveryConflict]:
    """Record the delivery (the body may be empty, or delivered_at null: delivered now) and
    schedule the order's one invitation. `delivered_at` may not be before the order was
    placed, nor more than 5 minutes in the future (422).

    Idempotent: a repeat, or a concurrent call, changes nothing and still gives one
    invitation; the first delivery time is kept. A call that sends a different
    `delivered_at` for an order already delivered gets 409 with both times."""
    order = _order(order_id)
    requested = payload.delivered_at if payload else None
    delivered_at = requested or timezone.now()
    try:
        ingest.check_delivery(order.placed_at, delivered_at)
    except ingest.FieldError as error:
        raise ValidationError(
            [{"loc": ["body", "payload", "delivered_at"], "msg": str(error)}]
        ) from None
    if conflict := _delivery_conflict(order, requested):
        return Status(409, conflict)
    services.order_mark_delivered(order=order, delivered_at=delivered_at)
    # A concurrent call with another time may have been first.
    if conflict := _delivery_conflict(order, requested):
        return Status(409, conflict)
    return Status(200, _order_out(order))


def _delivery_conflict(order: Order, requested: datetime | None) -> DeliveryConflict | None:
    """A different time for a delivery already on record; no time sent never conflicts."""
    if order.delivered_at is None or requested is None or requested == order.delivered_at:
        return None
    return DeliveryConflict(
        detail=f"Order {order.external_id} was already delivered at a different time; "
        "the first delivery time is kept.",
        delivered_at=order.delivered_at,
        requested_delivered_at=requested,
    )


@api.get(
    "/orders/{order_id:order_id}",
    response={200: OrderOut, 404: Error, **ERRORS},
    summary="An order and its invitation",
    tags=["orders"],
)
def order_status(request: HttpRequest, order_id: OrderId) -> OrderOut:
    """The order, its items and its invitation's state; never the customer's answer."""
    return _order_out(_order(order_id))
