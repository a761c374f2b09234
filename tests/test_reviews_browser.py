"""The public review pages and the widget in a real browser: axe finds nothing serious, no
request leaves the portal, and the widget shows inside a page on an allowed origin and is
refused by the browser inside a page on any other. Screenshots go to test-artifacts/."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import free_port, screenshot
from tests.reviews import published_review, quoted_answer
from tests.staff import member
from tests.test_customer_browser import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)
SKU = "GRD-BURR-01"


class HostPage:
    """A shop's page on its own origin (127.0.0.1 and a port of its own; the portal is on
    localhost), framing the widget as the README's snippet does."""

    def __init__(self, widget_url: str) -> None:
        html = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
            "</head><body><main><h1>Our shop</h1>"
            f"<iframe src='{widget_url}' title='Customer reviews' width='100%' height='480' "
            "loading='lazy'></iframe></main></body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host_pages(live_server: object) -> Iterator[tuple[HostPage, HostPage]]:
    widget_url = f"{live_server.url}/reviews/widget/"
    pages = HostPage(widget_url), HostPage(widget_url)
    yield pages
    for host in pages:
        host.stop()


@pytest.fixture
def reviews(settings: object, live_server: object) -> None:
    settings.PORTAL_BASE_URL = live_server.url
    now = timezone.now()
    published_review(name="Ana López", comment="Grinds evenly.", rating=5, at=now)
    published_review(name="Bo Chen", comment="The lid leaks.", rating=1, at=now - timedelta(days=1))
    published_review(
        name="Cy Okafor",
        comment="Fine kettle.",
        rating=3,
        sku="KTL-GLS-17",
        product="Glass kettle",
        at=now - timedelta(days=2),
    )


def record_requests(tab: object) -> list[str]:
    urls: list[str] = []
    tab.on("request", lambda request: urls.append(request.url))
    return urls


def foreign(urls: list[str], *origins: str) -> list[str]:
    return [url for url in urls if not url.startswith(origins) and not url.startswith("data:")]


@pytest.mark.usefixtures("reviews")
def test_public_pages_are_accessible_and_stay_on_the_portal(
    live_server: object, page: object
) -> None:
    urls = record_requests(page)
    pages = {
        "reviews": "/reviews/",
        "reviews-product": f"/reviews/p/{SKU}/",
        "reviews-policy": "/reviews/policy/",
        "reviews-widget": "/reviews/widget/",
        "reviews-es": "/reviews/?lang=es",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert_accessible(page, name)
        screenshot(page, name)
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("article.review").count() == 3
    # Newest first, a low rating among them, each marked verified.
    texts = page.locator("article.review .review-text").all_inner_texts()
    assert texts == ["Grinds evenly.", "The lid leaks.", "Fine kettle."]
    assert page.locator(".verified-purchase").count() == 3
    page.get_by_role("link", name="Glass kettle").first.click()
    page.wait_for_url(f"{live_server.url}/reviews/p/KTL-GLS-17/")
    assert page.locator("article.review .review-text").all_inner_texts() == ["Fine kettle."]
    assert foreign(urls, live_server.url) == []
    assert len(urls) > 10


@pytest.mark.usefixtures("reviews")
def test_the_widget_shows_inside_an_allowed_shop_page(
    live_server: object, page: object, host_pages: tuple[HostPage, HostPage], settings: object
) -> None:
    allowed, _other = host_pages
    settings.REVIEWS_WIDGET_ORIGINS = [allowed.origin]
    urls = record_requests(page)
    page.goto(allowed.origin + "/product.html")
    widget = page.frame_locator("iframe")
    expect(widget.locator("h1")).to_contain_text("Reviews of Tostadero Lumen", timeout=15_000)
    expect(widget.locator("#review-count")).to_have_text("3 reviews")
    expect(widget.locator(".review-text").first).to_have_text("Grinds evenly.")
    screenshot(page, "reviews-widget-framed")
    assert foreign(urls, live_server.url, allowed.origin) == []


@pytest.mark.usefixtures("reviews")
def test_the_widget_is_refused_inside_any_other_page(
    browser: object, live_server: object, host_pages: tuple[HostPage, HostPage], settings: object
) -> None:
    allowed, other = host_pages
    settings.REVIEWS_WIDGET_ORIGINS = [allowed.origin]
    # Not the `page` fixture: the browser's refusal is a CSP report on the console.
    context = browser.new_context()
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    with tab.expect_response(f"{live_server.url}/reviews/widget/"):
        tab.goto(other.origin + "/product.html")
    tab.wait_for_timeout(500)
    [frame] = [frame for frame in tab.frames if frame != tab.main_frame]
    assert "Grinds evenly." not in frame.content()
    assert any("frame-ancestors" in line for line in console), console
    context.close()


def test_staff_see_the_queue_and_the_embed_snippet(
    live_server: object, page: object, settings: object
) -> None:
    settings.PORTAL_BASE_URL = live_server.url
    quoted_answer(rating=1, comment="Arrived broken.")
    member("alice", "Ops")
    page.goto(f"{live_server.url}/staff/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.wait_for_url(f"{live_server.url}/staff/reviews/")
    assert_accessible(page, "moderation queue")
    screenshot(page, "staff-reviews")
    snippet = page.locator("#widget-snippet").inner_text()
    assert f'src="{live_server.url}/reviews/widget/"' in snippet
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published.")).to_be_visible()
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator(".review-text").all_inner_texts() == ["Arrived broken."]
