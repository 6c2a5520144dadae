"""Shared fixtures: a blog app on a throwaway database, seeded with two users."""

from __future__ import annotations

import os
import sys
import typing as t
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

# The package lives next to this folder, not in site-packages.
sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1]))

from blog import create_app  # noqa: E402
from blog.db import get_db  # noqa: E402

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient, FlaskCliRunner
    from werkzeug.test import TestResponse

# Seeded accounts: alice owns post 1, bob owns nothing. Their hashes use
# few rounds because the default scrypt would dominate the run time.
PASSWORDS = {"alice": "wonderland", "bob": "builder"}


def seed(app: Flask) -> None:
    """Fill a fresh database with the fixture users and one post."""
    with app.app_context():
        db = get_db()
        for name, password in PASSWORDS.items():
            db.execute(
                "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                (name, generate_password_hash(password, method="pbkdf2:sha256:1000")),
            )
        db.execute(
            "INSERT INTO posts (title, body, author_id, created)"
            " VALUES ('First light', 'Hello from alice.', 1, '2024-05-01 09:30:00')"
        )
        db.commit()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "blog-test.sqlite3"


@pytest.fixture
def app(db_path: Path) -> Flask:
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": os.fspath(db_path)})
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

    def login(self, username: str = "alice", password: str | None = None) -> TestResponse:
        if password is None:
            password = PASSWORDS[username]
        return self.client.post(
            "/auth/login", data={"username": username, "password": password}
        )

    def logout(self) -> TestResponse:
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)
