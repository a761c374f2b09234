import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.smtp import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# aiosmtpd logs every SMTP command at INFO: too loud for failure reports.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def pytest_report_header(config: pytest.Config) -> list[str]:
    services = settings.SERVICES
    if services.complete:
        return [f"services: PostgreSQL and Redis ({services.redis_url}) — integration tier on"]
    lines = ["services: SQLite only — integration tests skipped, because:"]
    lines += [f"  - {problem}" for problem in services.problems]
    if REQUIRE_SERVICES:
        lines.append("  REQUIRE_SERVICES=1: integration tests will FAIL instead of skipping")
    return lines


def require_services() -> None:
    """Skip without PostgreSQL and Redis; under REQUIRE_SERVICES=1 (CI), fail instead."""
    if settings.SERVICES.complete:
        return
    reason = "needs PostgreSQL and Redis: " + "; ".join(settings.SERVICES.problems)
    if REQUIRE_SERVICES:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("integration") is not None:
        require_services()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp(smtp_sink: SmtpSink) -> SmtpSink:
    smtp_sink.clear()
    return smtp_sink


def service_env(**extra: str) -> dict[str, str]:
    """The environment a real worker or command process needs to share the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.SERVICES.redis_url or "",
        "SECRET_KEY": settings.SECRET_KEY,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
        "DEBUG": "0",
        "PYTHONPATH": str(ROOT),
        # Webhook retries after 1, 4, 16... seconds, not 30, 120...: whichever test worker
        # takes a delivery, a test sees its retries in seconds.
        "WEBHOOK_RETRY_BACKOFF_SECONDS": "1",
    }
    env.update(extra)
    return env


WORKER_OPTIONS = [
    "--purge",  # drop messages a previous, interrupted test run left on the test broker
    "--loglevel=INFO",
    "--concurrency=2",
    "--without-heartbeat",
    "--without-gossip",
    "--without-mingle",
]


class WorkerProcess:
    """A real `celery worker` process; its log is kept for failure messages."""

    def __init__(self, env: dict[str, str], *extra_options: str) -> None:
        self.env, self.extra_options = env, extra_options
        self.log: list[str] = []
        self.ready = threading.Event()
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", *WORKER_OPTIONS]
        self.process = subprocess.Popen(
            [*command, *extra_options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            if " ready." in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        if not self.ready.wait(timeout):
            self.stop()
            raise RuntimeError("Celery worker did not start:\n" + "\n".join(self.log[-40:]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: object, smtp_sink: SmtpSink
) -> Iterator[WorkerProcess]:
    require_services()
    with django_db_blocker.unblock():
        env = service_env(EMAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}")
    worker = WorkerProcess(env)
    worker.wait_ready()
    SHARED_WORKERS.append(worker)
    yield worker
    SHARED_WORKERS.remove(worker)
    worker.stop()


# The session's shared worker, once a test has started it: it reads the default queue too.
SHARED_WORKERS: list[WorkerProcess] = []


@pytest.fixture
def no_shared_worker() -> Iterator[None]:
    """For a test whose tasks must reach only the workers it starts (with its own settings),
    or none: the session's shared worker, if running, stops for the test and starts again."""
    paused = [worker for worker in SHARED_WORKERS if worker.process.poll() is None]
    for worker in paused:
        worker.stop()
    yield
    for worker in paused:
        worker.__init__(worker.env, *worker.extra_options)
        worker.wait_ready()


def wait_for(predicate: object, timeout: float = 30, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@pytest.fixture
def all_day_window(db: None) -> None:
    """A send window covering the whole day, so tests do not depend on the clock's hour."""
    from datetime import time

    from feedback.models import InvitationPolicy

    InvitationPolicy.objects.update_or_create(
        pk=1,
        defaults={"send_window_start": time(0, 0), "send_window_end": time(23, 59, 59, 999999)},
    )


@pytest.fixture
def smtp_settings(settings: object, smtp: SmtpSink) -> SmtpSink:
    """Send from this process over real SMTP to the test's server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp


class CommandProcess:
    """A real `manage.py` command process, e.g. dispatch_invitations; its output is kept for
    failure messages."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.name = " ".join(args)
        self.log: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.log.append(line.rstrip())

    @property
    def done(self) -> bool:
        return self.process.poll() is not None

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if not self.done:
            self.process.kill()
        self.wait()


def process_logs(*processes: WorkerProcess | CommandProcess, lines: int = 30) -> str:
    """The tail of each process's output, for an assertion's failure message."""
    parts = []
    for process in processes:
        name = getattr(process, "name", "celery worker")
        tail = "\n".join(process.log[-lines:]) or "(no output)"
        parts.append(f"--- {name} (pid {process.process.pid}) ---\n{tail}")
    return "\n".join(parts)


class OwnQueueWorkerProcess(WorkerProcess):
    """A worker that also consumes a queue no other worker reads, so a test can hand a task
    (e.g. a sweep, run with this worker's settings) to it alone."""

    def __init__(self, env: dict[str, str], queue: str) -> None:
        self.queue = queue
        self.name = f"celery worker (also on {queue})"
        super().__init__(env, "--queues", f"celery,{queue}", "--hostname", f"{queue}@%h")


class Processes:
    """Worker and command processes one test starts with settings of its choosing (env);
    whatever still runs when the test ends is stopped."""

    def __init__(self, smtp_port: int) -> None:
        self.smtp_port = smtp_port
        self.workers: list[WorkerProcess] = []
        self.commands: list[CommandProcess] = []

    def env(self, **extra: str) -> dict[str, str]:
        return service_env(EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}", **extra)

    def worker(self, *, own_queue: str = "", **extra: str) -> WorkerProcess:
        """Start it before queueing work: a worker purges its queues as it starts."""
        env = self.env(**extra)
        worker = OwnQueueWorkerProcess(env, own_queue) if own_queue else WorkerProcess(env)
        self.workers.append(worker)
        return worker

    def command(self, *args: str, **extra: str) -> CommandProcess:
        self.commands.append(CommandProcess(self.env(**extra), *args))
        return self.commands[-1]

    def stop(self) -> None:
        for command in self.commands:
            command.kill()
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def processes(smtp_sink: SmtpSink) -> Iterator[Processes]:
    started = Processes(smtp_sink.port)
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The system Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the tests' own
    # database calls are ordinary synchronous ones, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser tab (no cookies) that fails the test on any CSP violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield tab
    context.close()
    assert not problems, problems


def screenshot(tab: object, name: str) -> None:
    """Save the page at phone and desktop widths as test artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = tab.viewport_size
    for width in (375, 1280):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    tab.set_viewport_size(size)
