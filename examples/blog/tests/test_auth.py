from __future__ import annotations

import sqlite3

import pytest
from flask import g, session

from blog.db import get_db


def test_register_page_renders(client):
    r = client.get("/auth/register")
    assert r.status_code == 200
    assert b'id="register-form"' in r.data


def test_register_creates_hashed_account(client, app):
    r = client.post("/auth/register", data={"username": "carol", "password": "s3cret!"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login"

    with app.app_context():
        row = get_db().execute(
            "SELECT password_hash FROM users WHERE username = 'carol'"
        ).fetchone()
    assert row is not None
    # Never store the password itself.
    assert row["password_hash"] != "s3cret!"
    assert row["password_hash"].startswith(("scrypt:", "pbkdf2:"))


def test_register_then_login_flashes(client):
    client.post("/auth/register", data={"username": "dave", "password": "abcd"})
    page = client.get("/auth/login")
    assert b"Account created" in page.data
    # Flashes are shown once.
    assert b"Account created" not in client.get("/auth/login").data


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "whatever", b"Username is required."),
        ("   ", "whatever", b"Username is required."),
        ("erin", "abc", b"Password must be at least 4 characters."),
        ("alice", "another", b"The username &#39;alice&#39; is already taken."),
    ],
)
def test_register_rejects_bad_input(client, username, password, message):
    r = client.post("/auth/register", data={"username": username, "password": password})
    assert r.status_code == 200
    assert message in r.data


def test_login_sets_session_and_redirects_home(client, auth):
    r = auth.login()
    assert r.status_code == 302
    assert r.headers["Location"] == "/"

    with client:
        page = client.get("/")
        assert session["user_id"] == 1
        assert g.user["username"] == "alice"
    assert b"Welcome back, alice!" in page.data
    assert b'id="current-user">alice<' in page.data


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", "wonderland"), ("alice", "wrong-password")],
)
def test_login_failure_is_vague(client, auth, username, password):
    r = auth.login(username, password)
    assert r.status_code == 200
    assert b"Wrong username or password." in r.data
    with client:
        client.get("/")
        assert "user_id" not in session
        assert g.user is None


def test_logout_clears_session(client, auth):
    auth.login()
    r = auth.logout()
    assert r.status_code == 302
    with client:
        page = client.get("/")
        assert "user_id" not in session
    assert b"You have been logged out." in page.data
    assert b'id="login-link"' in page.data


def test_login_required_redirects_with_next(client, auth):
    r = client.get("/posts/new")
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=/posts/new"

    r = client.post(
        "/auth/login?next=/posts/new",
        data={"username": "alice", "password": "wonderland"},
    )
    assert r.headers["Location"] == "/posts/new"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_login_ignores_offsite_next(client, target):
    r = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": "wonderland"},
    )
    assert r.headers["Location"] == "/"


def test_deleted_user_is_treated_as_anonymous(client, auth, app):
    auth.login("bob")
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM users WHERE username = 'bob'")
        db.commit()
    with client:
        client.get("/")
        assert g.user is None


def test_username_is_unique_in_schema(app):
    with app.app_context(), pytest.raises(sqlite3.IntegrityError):
        get_db().execute(
            "INSERT INTO users (username, password_hash) VALUES ('alice', 'x')"
        )
