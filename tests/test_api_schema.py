"""The served OpenAPI schema, fuzzed by schemathesis: requests generated from it, valid and
invalid alike, go through the project's WSGI application (all middleware, the real
database) and never get a 5xx, and every response matches the schema (status, content
type, headers, body)."""

from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from feedback.services import api_tokens
from tests.factories import OrderFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Valid and invalid requests each; 520 in all, in about half a minute.
CASES_PER_MODE = 260


def fuzz(schema: object, mode: GenerationMode, auth: dict) -> Counter[int]:
    """Send CASES_PER_MODE generated requests and check each response; statuses seen."""
    statuses: Counter[int] = Counter()

    @hypothesis_settings(
        max_examples=CASES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=schema.as_strategy(mode))
    def exchange(case: object) -> None:
        response = case.call(headers=auth)
        case.validate_response(response, checks=CHECKS, headers=auth)
        statuses[response.status_code] += 1

    exchange()
    return statuses


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_generated_requests_get_no_5xx_and_match_the_schema(settings: object) -> None:
    settings.API_RATE_PER_TOKEN = 1_000_000
    secret = api_tokens.api_token_create(name="fuzz", created_by=None)[1]
    OrderFactory(external_id="FUZZ-1")  # so some generated look-ups find an order
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    auth = {"Authorization": f"Bearer {secret}"}

    valid = fuzz(schema, GenerationMode.POSITIVE, auth)
    invalid = fuzz(schema, GenerationMode.NEGATIVE, auth)

    assert valid.total() + invalid.total() >= 500, (valid, invalid)
    assert valid[200] > 0, valid  # valid orders really went in
    assert invalid[422] > 0, invalid
