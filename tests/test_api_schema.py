"""The served OpenAPI schema against the API, by schemathesis with all its checks.

Requests generated from the schema, valid and invalid alike, in its examples, coverage
and fuzzing phases, go through the project's WSGI application (all middleware, the real
database). Every check must pass: no 5xx; every response as the schema says (status,
content type, headers, body); every valid request accepted and every invalid one refused;
405 with an Allow header for a method the schema does not list; 401 without the token.

JSON Schema cannot state three of the API's rules, so they are applied to the generated
bodies here (adapt_to_rules) and tested on their own in tests/test_api.py: delivered_at
not before placed_at, delivered_at not in the future, and an integer written without a
fraction (JSON Schema counts 2.0 as an integer; the API refuses it).
"""

from datetime import UTC, datetime

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone
from schemathesis import Case, HookContext

from feedback import ingest
from feedback.services import api_tokens
from tests.factories import OrderFactory

# Generated cases per operation and phase; bounded, and the same on every run.
MAX_EXAMPLES = 60
CONFIG = {
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,  # the same cases on every run: a failure reproduces
        "database": "none",
    },
    "phases": {"stateful": {"enabled": False}},  # the schema has no links to follow
    "suppress-health-check": ["all"],
}
# Loaded when the tests are collected: the schema's URL needs no database. (Loading it in a
# fixture, schemathesis.pytest.from_fixture, fails on pytest 9.)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", WSGIHandler(), config=schemathesis.Config.from_dict(CONFIG)
)


@schema.hook("map_body")
def adapt_to_rules(context: HookContext, body: object) -> object:
    """The generated orders, made to keep the rules JSON Schema cannot state."""
    orders = body if isinstance(body, list) else [body]
    for order in orders:
        if isinstance(order, dict):
            _keep_delivery_rules(order)
            for item in order.get("items") or []:
                quantity = item.get("quantity") if isinstance(item, dict) else None
                if isinstance(quantity, float) and quantity.is_integer():
                    item["quantity"] = int(quantity)
    return body


def _keep_delivery_rules(order: dict) -> None:
    placed_at, delivered_at = _moment(order.get("placed_at")), _moment(order.get("delivered_at"))
    if delivered_at is None:
        return
    if (placed_at and delivered_at < placed_at) or delivered_at > timezone.now():
        order["delivered_at"] = None  # not delivered yet; on the delivered URL: now


def _moment(value: object) -> datetime | None:
    try:
        return ingest.parse_datetime(value) if isinstance(value, str) else None
    except ingest.FieldError:
        return None


@pytest.fixture
def auth(settings: object) -> dict[str, str]:
    settings.API_RATE_PER_TOKEN = 1_000_000
    secret = api_tokens.api_token_create(name="fuzz", created_by=None)[1]
    # The order of the schema's example order_id, so that the examples phase finds it;
    # placed before any date the schema allows, so that any delivery time is after it.
    OrderFactory(external_id="SHOP-1001", placed_at=datetime(1999, 12, 31, tzinfo=UTC))
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
def test_the_api_does_what_its_schema_says(case: Case, auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth)
