"""`WEB_PORT=8123 make run`: the port the Procfile serves on reaches every link in an email.

The settings are read once per process, so each case runs them in a process of its own
with the environment `make run` gives its commands (no PORTAL_BASE_URL unless stated)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.checkout import ROOT

# Builds an invitation email from unsaved rows: no database is needed.
SCRIPT = """
import json
from datetime import UTC, datetime

import django

django.setup()
from django.conf import settings

from feedback import emails
from feedback.models import Customer, Invitation, Order

customer = Customer(email="ana@example.com", name="Ana", locale="en", time_zone="UTC")
moment = datetime(2025, 3, 3, 12, tzinfo=UTC)
order = Order(external_id="SHOP-1001", customer=customer, placed_at=moment, delivered_at=moment)
invitation = Invitation(
    order=order, customer=customer, token_nonce="n" * 32, due_at=moment, expires_at=moment
)
message = emails.invitation_message(
    invitation, kind="invitation", message_id="<1@localhost>", items=[]
)
bodies = [message.body, *(content for content, _type in message.alternatives)]
print(json.dumps({
    "base": settings.PORTAL_BASE_URL,
    "list_unsubscribe": message.extra_headers["List-Unsubscribe"],
    "bodies": "\\n".join(bodies),
}))
"""


def portal(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PORTAL_BASE_URL", "WEB_PORT", "REDIS_URL", "EMAIL_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL="sqlite:///:memory:",
        VAR_DIR=str(tmp_path),
        DEBUG="1",
        PYTHONPATH=str(ROOT),
        **variables,
    )
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_it_puts_web_port_into_the_base_url(tmp_path: Path) -> None:
    assert portal(tmp_path, WEB_PORT="8123")["base"] == "http://localhost:8123"


def test_it_puts_web_port_into_every_link_of_an_invitation_email(tmp_path: Path) -> None:
    email = portal(tmp_path, WEB_PORT="8123")
    links = re.findall(r"https?://[^\s\"'<>]+", email["bodies"])
    local = [link for link in links if "localhost" in link]
    assert len(set(local)) >= 4  # answer, later, no thanks, stop
    assert [link for link in local if not link.startswith("http://localhost:8123/")] == []
    assert re.fullmatch(r"<http://localhost:8123/f/\S+>", email["list_unsubscribe"])


def test_without_web_port_it_is_8000(tmp_path: Path) -> None:
    assert portal(tmp_path)["base"] == "http://localhost:8000"


def test_portal_base_url_wins_over_web_port(tmp_path: Path) -> None:
    email = portal(tmp_path, WEB_PORT="8123", PORTAL_BASE_URL="https://feedback.example.com/")
    assert email["base"] == "https://feedback.example.com"
    assert email["list_unsubscribe"].startswith("<https://feedback.example.com/f/")
