"""Configuration from the environment, with defaults that need nothing running.

Unset, the app uses SQLite in the instance folder, an in-process cache,
in-process live updates and Celery tasks run eagerly in the request. Each
variable switches one piece to a real service, with the same code paths:

- ``DATABASE_URL``: any SQLAlchemy URL; ``postgres://`` and ``postgresql://``
  use the psycopg 3 driver;
- ``REDIS_URL``: the cache and live-update pub/sub on Redis;
- ``CELERY_BROKER_URL``: tasks go to a Celery worker through this broker;
- ``SECRET_KEY``, ``BASE_URL``, ``MAIL_SERVER``, ``MAIL_OUTBOX_DIR``,
  ``CELERY_QUEUE``: see ``from_environ``.
"""

from __future__ import annotations

import os
import typing as t


def database_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the psycopg 3 driver installed here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environ(environ: t.Mapping[str, str], instance_path: str) -> dict[str, t.Any]:
    """The configuration this process's environment asks for."""
    db_url = environ.get("DATABASE_URL")
    redis_url = environ.get("REDIS_URL") or None
    broker_url = environ.get("CELERY_BROKER_URL") or None
    config: dict[str, t.Any] = {
        # Only good for local development; production sets SECRET_KEY.
        "SECRET_KEY": environ.get("SECRET_KEY", "dev"),
        "SQLALCHEMY_DATABASE_URI": database_url(db_url)
        if db_url
        else "sqlite:///" + os.path.join(instance_path, "blog.sqlite3"),
        # A new SQLite file is migrated on start so `make run` needs no
        # setup step (one Alembic has seen is left at its revision, so a
        # `flask db downgrade` stays put); a shared database is migrated
        # once, by the deploy (`flask db upgrade`), never by each worker.
        "AUTO_UPGRADE": not db_url,
        "REDIS_URL": redis_url,
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "blog:",
        "CACHE_DEFAULT_TIMEOUT": 300,
        "MAIL_DEFAULT_SENDER": environ.get("MAIL_DEFAULT_SENDER", "blog@localhost"),
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT", "25")),
        # Without a mail server every message lands in the outbox folder.
        "MAIL_SUPPRESS_SEND": "MAIL_SERVER" not in environ,
        "MAIL_OUTBOX_DIR": environ.get("MAIL_OUTBOX_DIR", os.path.join(instance_path, "outbox")),
        "CELERY": {
            "broker_url": broker_url,
            "result_backend": None,
            "task_ignore_result": True,
            "task_always_eager": broker_url is None,
            # Eager retries only work when errors stay in the result;
            # blog.posts.announce_post logs a failed eager job.
            "task_eager_propagates": False,
            "task_default_queue": environ.get("CELERY_QUEUE", "blog"),
            # A job is acknowledged only once done, so a worker killed
            # mid-job leaves it for another (the tasks are idempotent).
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
        },
        # Links in e-mails, which a worker writes outside any request.
        "BASE_URL": environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "POSTS_PER_PAGE": 20,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "API_TOKEN_MAX_AGE": 30 * 24 * 3600,
        # The largest thing a page sends over its socket is a comment: 5000
        # characters, at most 6 bytes each once JSON-escaped.
        "WEBSOCKET_MAX_MESSAGE_SIZE": 64 * 1024,
        # The index page's feed (blog.feed): a stream ends once this many
        # seconds old, so long-lived connections spread again over the
        # servers and a deploy's old ones drain; the browser reconnects
        # after LIVE_STREAM_RETRY milliseconds and resumes where it was.
        "LIVE_STREAM_MAX_AGE": 300.0,
        "LIVE_STREAM_RETRY": 2000,
        # Seconds between database reads when nothing woke a stream: the
        # bound on a post's delay when its wake-up was lost.
        "LIVE_STREAM_POLL": 15.0,
    }
    return config
