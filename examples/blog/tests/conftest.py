"""Shared fixtures: a blog app on a throwaway SQLite database with two users.

Each test gets a copy of one database migrated at the start of the session
(running the migrations per test would cost a quarter second each), and the
app is built with an empty environment so a developer's ``DATABASE_URL`` or
``REDIS_URL`` never points the suite at a real service.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
import typing as t
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

# The package lives next to this folder, not in site-packages.
sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1]))

from blog import create_app  # noqa: E402
from blog.extensions import db  # noqa: E402
from blog.models import Post, User  # noqa: E402
from blog.settings import database_url  # noqa: E402
from services import scratch_database  # noqa: E402

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from werkzeug.test import TestResponse

# Seeded accounts: alice owns post 1, bob owns nothing. Their hashes use
# few rounds because the default scrypt would dominate the run time.
PASSWORDS = {"alice": "wonderland", "bob": "builder"}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{os.fspath(path)}"


def build_app(db_path: Path, tmp_path: Path, **config: t.Any) -> Flask:
    """The blog on ``db_path`` with test settings and no environment."""
    settings: dict[str, t.Any] = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": sqlite_url(db_path),
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX_DIR": os.fspath(tmp_path / "outbox"),
    }
    settings.update(config)
    return create_app(settings, environ={})


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated to the newest revision, once per session."""
    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "blog.sqlite3"
    build_app(path, folder)
    return path


def seed(app: Flask) -> None:
    """Fill a fresh database with the fixture users and one post."""
    with app.app_context():
        for name, password in PASSWORDS.items():
            db.session.add(
                User(
                    username=name,
                    email=f"{name}@example.org",
                    password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"),
                )
            )
        db.session.add(
            Post(
                title="First light",
                body="Hello from alice.",
                author_id=1,
                created=dt.datetime(2024, 5, 1, 9, 30),
            )
        )
        db.session.commit()


@pytest.fixture
def db_path(tmp_path: Path, migrated_db: Path) -> Path:
    path = tmp_path / "blog-test.sqlite3"
    shutil.copyfile(migrated_db, path)
    return path


@pytest.fixture
def app(db_path: Path, tmp_path: Path) -> Flask:
    app = build_app(db_path, tmp_path, AUTO_UPGRADE=False)
    seed(app)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class Auth:
    """Log the test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(
        self, username: str = "alice", password: str | None = None, **extra: str
    ) -> TestResponse:
        if password is None:
            password = PASSWORDS[username]
        return self.client.post(
            "/auth/login", data={"username": username, "password": password, **extra}
        )

    def logout(self) -> TestResponse:
        return self.client.post("/auth/logout")

    def token(self, username: str = "alice") -> dict[str, str]:
        """Headers carrying a fresh API token for ``username``."""
        r = self.client.post(
            "/api/tokens", json={"username": username, "password": PASSWORDS[username]}
        )
        assert r.status_code == 201, r.data
        return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def pg_url() -> t.Iterator[str]:
    """An empty PostgreSQL database for one test, as an SQLAlchemy URL."""
    with scratch_database() as url:
        yield database_url(url)


class FailingBroker:
    """A broker whose stream breaks, as Redis going away would."""

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> t.AsyncIterator[t.AsyncIterator[dict[str, t.Any]]]:
        async def events() -> t.AsyncIterator[dict[str, t.Any]]:
            raise ConnectionError("broker gone")
            yield {}  # pragma: no cover

        yield events()
