"""From a fresh clone, the README's commands work as written, and `make run` serves on
WEB_PORT, quietly, stops cleanly on Ctrl-C and leaves nothing behind but ignored files,
which `make clean` removes."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.checkout import (
    fresh_checkout,
    make,
    newcomer_env,
    readme_block,
    readme_commands,
    untracked,
)

pytestmark = pytest.mark.integration

# Lines a newcomer would worry about, in what `make run` prints from start to Ctrl-C.
WORRYING = re.compile(r"warn|error|traceback|critical|exception|deprecat", re.I)


def run(checkout: Path, command: str) -> str:
    """One of the README's `.venv/bin/python manage.py …` lines, with this test's Python."""
    words = command.split()
    assert words[0] == ".venv/bin/python", command
    completed = subprocess.run(
        [sys.executable, *words[1:]],
        cwd=checkout,
        env=newcomer_env(checkout),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, f"{command}\n{completed.stdout}{completed.stderr}"
    return completed.stdout


def test_the_readme_commands_work_in_a_fresh_clone(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path / "portal")
    make(checkout, ".env")  # as `make run` does first
    run(checkout, ".venv/bin/python manage.py migrate --noinput --verbosity 0")
    (checkout / "orders.csv").write_text(readme_block("csv", "order_id"), encoding="utf-8")
    commands = readme_commands("import_orders orders.csv")
    outputs = [run(checkout, command) for command in commands]
    assert "created 3" in outputs[0], outputs[0]
    assert "customer_cooldown_days=30" in outputs[1], outputs[1]
    assert '"email": "ana@example.com"' in outputs[2], outputs[2]
    (checkout / "orders.csv").unlink()
    make(checkout, "clean")
    assert untracked(checkout, ignored=True) == []


class MakeRun:
    """`make run` in its own process group, as a terminal runs it; its output is kept."""

    def __init__(self, checkout: Path, port: int) -> None:
        self.lines: list[str] = []
        # The checkout's .venv is this test's venv, already installed (-o: not again).
        (checkout / ".venv").symlink_to(Path(sys.prefix))
        self.process = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run"],
            cwd=checkout,
            env=newcomer_env(checkout, WEB_PORT=str(port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def ctrl_c(self, timeout: float = 30) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_make_run_serves_on_web_port_quietly_and_stops_cleanly(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path / "portal")
    port = free_port()
    started = MakeRun(checkout, port)
    try:
        deadline = time.monotonic() + 180
        while not healthy(port) and started.process.poll() is None:
            assert time.monotonic() < deadline, started.output
            time.sleep(0.5)
        assert healthy(port), started.output
        time.sleep(3)  # the worker and beat finish starting
        code = started.ctrl_c()
    finally:
        started.kill()
    output = started.output
    links = re.findall(r"https?://[^\s\"'<>]+", output)
    assert links, output
    assert [link for link in links if not re.search(rf":{port}(/|$)", link)] == [], output
    assert [line for line in started.lines if WORRYING.search(line)] == [], output
    # make stops on Ctrl-C as a terminal's Ctrl-C stops it, without an error of its own.
    assert code in (0, -signal.SIGINT), output
    (checkout / ".venv").unlink()
    assert untracked(checkout) == []
    make(checkout, "clean")
    assert untracked(checkout, ignored=True) == []
