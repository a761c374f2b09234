"""The README works as written: its links, its sample CSV and its API session."""

import json
import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from feedback.ingest import CSV_HEADER
from feedback.models import Invitation, Order
from feedback.services import api_tokens
from tests.checkout import README, ROOT, readme_block, readme_commands


def test_it_links_only_to_documents_in_the_repository() -> None:
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#]+)\)", text)
    local = [target for target in targets if "://" not in target]
    assert {"docs/design.md", "docs/style.md"} <= set(local)
    assert [target for target in local if not (ROOT / target).is_file()] == []
    assert "../" not in text


def test_its_sample_csv_has_the_import_header_and_three_orders() -> None:
    lines = readme_block("csv", "order_id").splitlines()
    assert lines[0] == ",".join(CSV_HEADER)
    assert len(lines) == 4


@pytest.mark.django_db
def test_its_sample_csv_imports_every_order(tmp_path: Path) -> None:
    orders_csv = tmp_path / "orders.csv"
    orders_csv.write_text(readme_block("csv", "order_id"), encoding="utf-8")
    # A rejected row would raise CommandError.
    call_command("import_orders", str(orders_csv), stdout=StringIO(), stderr=StringIO())
    assert Order.objects.count() == 3
    assert Invitation.objects.count() == 2  # one per delivered order


def curl_request(command: str) -> tuple[str, str, dict[str, str], str]:
    """method, path, headers and body of one of the README's curl commands."""
    words = shlex.split(command)
    assert words[0] == "curl", command
    method, url, headers, body = "GET", "", {}, ""
    options = iter(words[1:])
    for word in options:
        if word == "-X":
            method = next(options)
        elif word == "-H":
            name, _, value = next(options).partition(": ")
            headers[name.lower()] = value
        elif word == "-d":
            method, body = "POST" if method == "GET" else method, next(options)
        elif not word.startswith("-"):
            url = word
    return method, url.removeprefix("http://localhost:8000"), headers, body


@pytest.mark.django_db
def test_its_api_session_works_as_written() -> None:
    commands = readme_commands("curl")
    assert commands[0].startswith("TOKEN=")
    _token, secret = api_tokens.api_token_create(name="readme", created_by=None)
    client = Client()
    responses = []
    for command in commands[1:]:
        method, path, headers, body = curl_request(command.replace("$TOKEN", secret))
        content_type = headers.pop("content-type", "")
        responses.append(
            client.generic(method, path, body, content_type=content_type, headers=headers)
        )
    assert [response.status_code for response in responses] == [200, 200, 200]
    shown = readme_block("sh", "curl").split("# {", 1)[1].split("\n", 1)[0]
    assert responses[0].json() == json.loads("{" + shown)
    status = responses[2].json()
    assert (status["order_id"], status["invitation"]["state"]) == ("SHOP-2001", "scheduled")
    assert status["delivered_at"] is not None
