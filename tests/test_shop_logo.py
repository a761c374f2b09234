"""The shop's logo, served by the portal itself for its pages and emails."""

from pathlib import Path

import pytest
from django.test import Client


def test_it_serves_the_logo_as_an_image(client: Client) -> None:
    response = client.get("/shop/logo")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)


def test_it_serves_whatever_image_the_shop_configures(
    client: Client, settings: object, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    settings.SHOP_LOGO = str(logo)
    response = client.get("/shop/logo")
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")


@pytest.mark.parametrize("logo", ["", "/nonexistent/logo.svg"])
def test_it_is_not_found_without_a_logo_file(client: Client, settings: object, logo: str) -> None:
    settings.SHOP_LOGO = logo
    assert client.get("/shop/logo").status_code == 404


def test_it_only_answers_reads(client: Client) -> None:
    assert client.post("/shop/logo").status_code == 405
