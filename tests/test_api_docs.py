"""The API's human docs at /api/v1/docs: Swagger UI from the project's own static files, no
CDN, working offline under the site's Content Security Policy."""

import re

import pytest
from django.test import Client

from tests.conftest import screenshot

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_only_our_own_files() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "an off-site asset"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_schema_is_served_as_json() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/orders", "/api/v1/orders/{order_id}/delivered"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"]["scheme"] == "bearer"


@pytest.mark.django_db(transaction=True)
def test_the_docs_work_offline_in_a_browser(live_server: object, page: object) -> None:
    off_site: list[str] = []

    def only_local(route: object) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("Feedback portal API").first.wait_for()
    page.get_by_text("/api/v1/orders/{order_id}/delivered").first.wait_for()
    assert page.get_by_role("button", name=re.compile("Authorize")).is_visible()
    assert off_site == []
    screenshot(page, "api-docs")
