"""The local .env that `make run` writes (`make .env`), and who reads it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout import fresh_checkout, make, newcomer_env, untracked

SHOW_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "FEEDBACK_RATE_PER_IP": settings.FEEDBACK_RATE_PER_IP,
}))
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return fresh_checkout(tmp_path / "portal")


def settings_in(checkout: Path, module: str, **variables: str) -> dict[str, object]:
    env = newcomer_env(checkout, DJANGO_SETTINGS_MODULE=module, **variables)
    completed = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def dotenv(checkout: Path) -> dict[str, str]:
    lines = (checkout / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_it_writes_debug_and_a_random_secret_key_once(checkout: Path, tmp_path: Path) -> None:
    make(checkout, ".env")
    written = dotenv(checkout)
    assert written["DEBUG"] == "1"
    assert len(written["SECRET_KEY"]) >= 50
    assert (checkout / ".env").stat().st_mode & 0o077 == 0  # a secret: the owner's only
    make(checkout, ".env")
    assert dotenv(checkout) == written  # never overwritten
    other = fresh_checkout(tmp_path / "other")
    make(other, ".env")
    assert dotenv(other)["SECRET_KEY"] != written["SECRET_KEY"]
    assert untracked(checkout) == []  # git ignores it


def test_the_settings_read_it_and_the_environment_wins(checkout: Path) -> None:
    make(checkout, ".env")
    from_file = settings_in(checkout, "portal.settings")
    assert (from_file["DEBUG"], from_file["SECRET_KEY"]) == (True, dotenv(checkout)["SECRET_KEY"])
    exported = settings_in(checkout, "portal.settings", DEBUG="0", SECRET_KEY="from-the-shell")
    assert (exported["DEBUG"], exported["SECRET_KEY"]) == (False, "from-the-shell")


def test_the_tests_ignore_a_developers_dotenv(checkout: Path) -> None:
    (checkout / ".env").write_text("DEBUG=1\nSECRET_KEY=from-dotenv\nFEEDBACK_RATE_PER_IP=7\n")
    # No PostgreSQL or Redis needed: tests.settings then falls back to SQLite.
    seen = settings_in(
        checkout,
        "tests.settings",
        DATABASE_URL="sqlite:///:memory:",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert seen["DEBUG"] is False
    assert seen["SECRET_KEY"] != "from-dotenv"
    assert seen["FEEDBACK_RATE_PER_IP"] == 120
