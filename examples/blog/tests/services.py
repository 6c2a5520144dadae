"""Finding the services the PostgreSQL, Redis and deployment tests need.

Each test that needs one asks here; when it is not running, the test skips
with a message naming what to start (under ``CI=true`` the ``ci_strict``
plugin turns that skip into a failure, since CI starts every service).
The addresses are the project machines' defaults, overridable by:

- ``BLOG_TEST_PG``: a PostgreSQL URL whose user may create databases;
- ``BLOG_TEST_REDIS``: a Redis URL (a database number to use freely);
- ``BLOG_TEST_AMQP``: a RabbitMQ URL for Celery.
"""

from __future__ import annotations

import contextlib
import os
import socket
import typing as t
import uuid
from urllib.parse import urlsplit

import pytest

PG_ADMIN = os.environ.get("BLOG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BLOG_TEST_REDIS", "redis://127.0.0.1:6379/0")
AMQP = os.environ.get("BLOG_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 2):
            return True
    except OSError:
        return False


def need(url: str, port: int, what: str) -> None:
    if not reachable(url, port):
        pytest.skip(f"{what} is not running at {url}; start it (or set the BLOG_TEST_* variable)")


@contextlib.contextmanager
def scratch_database() -> t.Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; yields its URL."""
    need(PG_ADMIN, 5432, "PostgreSQL")
    import psycopg

    name = f"blog_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(PG_ADMIN)._replace(path=f"/{name}").geturl()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
