"""Which real services the suite can use: PostgreSQL and Redis, or SQLite and none.

Decided before Django's settings load, so the whole suite runs on PostgreSQL when it can.
"""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/feedback"
# A Redis database of its own, so tests never touch a demo's keys.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass(frozen=True)
class Services:
    database_url: str | None
    redis_url: str | None
    problems: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.problems


def _postgres_problem(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    try:
        psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} unreachable ({exc})"
    return None


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} unreachable ({exc})"
    return None


def detect() -> Services:
    problems = []
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith(("postgres", "pgsql")):
        problems.append(f"DATABASE_URL is not PostgreSQL ({database_url.split(':')[0]})")
        database_url = None
    elif problem := _postgres_problem(database_url):
        problems.append(problem)
        database_url = None
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if problem := _redis_problem(redis_url):
        problems.append(problem)
        redis_url = None
    return Services(database_url, redis_url, tuple(problems))
