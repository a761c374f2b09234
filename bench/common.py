"""Shared helpers: the bench environment and database, gunicorn, a load loop, percentiles."""

import functools
import hashlib
import http.client
import importlib.metadata
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import psycopg
from gunicorn import config as gunicorn_config
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/feedback_bench"
SQLITE_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'bench.sqlite3'}"
SUBPROCESS_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Result:
    """One printed line: `name: ratio (detail)`; the ratio is what a reader compares."""

    name: str
    ratio: float
    detail: str = ""

    def line(self) -> str:
        suffix = f" ({self.detail})" if self.detail else ""
        return f"{self.name}: {self.ratio:.2f}{suffix}"


def info(message: str) -> None:
    # stdout carries only result lines, so anything else goes to stderr.
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- environment and database ------------------------------------------------------------


def _migrations_fingerprint() -> str:
    """A hash of every project migration file and the Django version.

    `migrate` trusts django_migrations, so an initial migration edited in place (before a
    release) would leave a bench database with the old schema forever: the fingerprint
    lets us notice and start that database afresh.
    """
    digest = hashlib.sha256(importlib.metadata.version("django").encode())
    for path in sorted(BASE_DIR.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return f"bench-migrations:{digest.hexdigest()[:16]}"


def _ensure_postgres_database(url: str) -> bool:
    """Create the database if missing, or afresh if its migrations changed; False when
    PostgreSQL is not reachable."""
    name = urlsplit(url).path.lstrip("/")
    # CREATE DATABASE cannot run in a transaction, and needs a connection to another db.
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    fingerprint = _migrations_fingerprint()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [name],
            ).fetchone()
            if row is not None and row[0] != fingerprint and _owned(name, row[0]):
                # A bench database holds only bench data: dropping it loses nothing.
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                info(f"dropped database {name}: its migrations changed")
                row = None
            if row is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                conn.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(name), sql.Literal(fingerprint)
                    )
                )
                info(f"created database {name}")
    except psycopg.OperationalError as error:
        info(f"PostgreSQL not reachable ({str(error).strip().splitlines()[0]})")
        return False
    return True


def _owned(name: str, comment: str | None) -> bool:
    """Only a database the bench made may be dropped, never one DATABASE_URL names."""
    return name.startswith("feedback_bench") or (comment or "").startswith("bench-migrations:")


def _database_url() -> str:
    """DATABASE_URL or the default bench database on PostgreSQL; SQLite if neither answers."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        return url  # the caller chose another engine explicitly
    if _ensure_postgres_database(url):
        return url
    info(f"falling back to {SQLITE_DATABASE_URL}")
    return SQLITE_DATABASE_URL


@functools.cache
def bench_env() -> Mapping[str, str]:
    """The environment for every Django subprocess and gunicorn, with the database migrated.

    Cached: one SECRET_KEY per run, because invitation tokens are an HMAC with it, so the
    data set-up and the server must share it. Migrations run once for all benchmarks.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=_database_url(),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    info(f"database {env['DATABASE_URL']}")
    run_python(["manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    return env


def run_python(args: list[str], env: Mapping[str, str]) -> str:
    """Run the venv's Python in the project directory; its stdout, or an error with stderr."""
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{completed.stderr[-4000:]}")
    return completed.stdout


@functools.cache
def bench_env_for(database: str) -> Mapping[str, str]:
    """bench_env() pointed at another database of the same PostgreSQL server, migrated.

    For data sets too large to share the main bench database (and kept across runs).
    """
    base = bench_env()
    url = urlsplit(base["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        raise RuntimeError(f"needs PostgreSQL, have {base['DATABASE_URL']}")
    other = urlunsplit((url.scheme, url.netloc, f"/{database}", url.query, url.fragment))
    env = {**base, "DATABASE_URL": other}
    if not _ensure_postgres_database(env["DATABASE_URL"]):
        raise RuntimeError(f"cannot create database {database}")
    run_python(["manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    return env


def call_in_django(function: str, *args: str, env: Mapping[str, str] | None = None) -> object:
    """Call `package.module:function` in a Django subprocess with the bench settings."""
    stdout = run_python(["-m", "bench.call", function, *args], env or bench_env())
    return json.loads(stdout.strip().splitlines()[-1])


# --- gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    # The OS picks a free port; the tiny window before gunicorn binds it is acceptable here.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(
    port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    """Poll `path` until it answers 200; fail early if gunicorn exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            status, _body = get(port, path, timeout=2.0)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer 200 on {path} within {timeout:.0f}s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM for a graceful stop (the master stops its workers); SIGKILL if it hangs.

    The process must run in its own session (start_new_session=True), so that its
    process group holds only it and its children.
    """
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def tail(log: IO[bytes], size: int = 4000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


def wait_for_log(
    log: IO[bytes], marker: bytes, process: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    """Wait until a process writes `marker` to its log file; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode}:\n{tail(log)}")
        log.seek(0)
        if marker in log.read():
            return
        time.sleep(0.1)
    raise RuntimeError(f"no {marker!r} within {timeout:.0f}s:\n{tail(log)}")


def _control_socket_off() -> list[str]:
    # gunicorn >= 25.1 opens a control socket at one fixed path in $HOME by default, which
    # a dev server (`make run`) may hold too; the bench server needs none. Older versions
    # have no such socket and would reject the flag.
    return ["--no-control-socket"] if hasattr(gunicorn_config, "ControlSocketDisable") else []


@contextmanager
def gunicorn(
    ready_path: str, workers: int = 2, env: Mapping[str, str] | None = None
) -> Iterator[int]:
    """Serve the project with the bench settings on a free local port; yields the port.

    `env`: another bench environment (e.g. a kept data set's, or with a bench switch).
    The server is stopped on exit, also when the benchmark raises.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "portal.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        *_control_socket_off(),
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env or bench_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(port, ready_path, process)
            yield port
        except BaseException:
            info(f"gunicorn log:\n{tail(log)}")
            raise
        finally:
            stop_process(process)


# --- load and statistics -----------------------------------------------------------------


def measure(
    port: int,
    paths: Mapping[str, str],
    rounds: int = 500,
    warmup: int = 50,
    headers: Mapping[str, str] | None = None,
) -> dict[str, list[float]]:
    """Latency in ms per named path, requests interleaved so drift hits every path alike.

    One client, one request at a time: this measures latency, not throughput. The order
    within a round alternates so no path always follows the same one. `headers` go with
    every request, on every path (a browser's cookies, say).
    """
    connections = {name: http.client.HTTPConnection(HOST, port, timeout=10) for name in paths}
    samples: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    try:
        for round_number in range(warmup + rounds):
            order = names if round_number % 2 == 0 else names[::-1]
            for name in order:
                elapsed_ms = _timed_get(connections[name], paths[name], headers or {})
                if round_number >= warmup:
                    samples[name].append(elapsed_ms)
    finally:
        for conn in connections.values():
            conn.close()
    return samples


def _timed_get(conn: http.client.HTTPConnection, path: str, headers: Mapping[str, str]) -> float:
    # http.client reopens the connection by itself when the server closed it (gunicorn's
    # sync workers close after every response), so both paths pay the same connect cost.
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed_ms = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    return elapsed_ms


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


# --- generated data sets -----------------------------------------------------------------


def connect(env: Mapping[str, str]) -> psycopg.Connection:
    """A plain autocommit connection to the env's database, for loading and timing SQL."""
    return psycopg.connect(env["DATABASE_URL"], autocommit=True, connect_timeout=5)


def load_generated(
    conn: psycopg.Connection,
    tables: list[str],
    statements: list[str],
    params: Mapping[str, object],
) -> None:
    """Empty `tables` and fill them with INSERT … SELECT … generate_series statements.

    Much faster than the ORM: one transaction, and the rows are consistent by construction,
    so the per-row foreign-key triggers are skipped (needs a superuser, as the bench's
    postgres is). Afterwards the id sequences continue after the rows, and fresh
    statistics keep the planner (and autovacuum) from wandering into the measurement.
    """
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )
        for number, statement in enumerate(statements, start=1):
            start = time.monotonic()
            conn.execute(statement, params)
            info(f"load step {number}/{len(statements)}: {time.monotonic() - start:.0f}s")
        for table in tables:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({table}, 'id'), "
                    "(SELECT coalesce(max(id), 1) FROM {ident}))"
                ).format(table=sql.Literal(table), ident=sql.Identifier(table))
            )
    conn.execute(
        sql.SQL("VACUUM ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
    )


def dataset_env(
    database: str,
    is_loaded: Callable[[psycopg.Connection], bool],
    load: Callable[[psycopg.Connection], None],
    what: str,
) -> dict[str, str]:
    """The environment for a kept data set in its own database, loaded only when missing
    (or incomplete): large data sets are generated once and reused across runs."""
    env = dict(bench_env_for(database))
    with connect(env) as conn:
        if not is_loaded(conn):
            start = time.monotonic()
            load(conn)
            info(f"loaded {what} in {time.monotonic() - start:.0f}s")
    return env
