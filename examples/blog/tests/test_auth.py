from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask_login import current_user
from werkzeug.security import check_password_hash

from blog.extensions import db
from blog.models import User


def user(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == name))


def test_register_page_renders(client):
    r = client.get("/auth/register")
    assert r.status_code == 200
    assert b'id="register-form"' in r.data


def test_register_creates_hashed_account(client, app):
    r = client.post(
        "/auth/register",
        data={"username": " carol ", "email": "carol@example.org", "password": "s3cret!"},
    )
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login"

    row = user(app, "carol")
    assert row is not None
    assert row.email == "carol@example.org"
    # Never store the password itself; Werkzeug must accept the hash.
    assert row.password_hash != "s3cret!"
    assert check_password_hash(row.password_hash, "s3cret!")


def test_register_email_is_optional(client, app):
    r = client.post("/auth/register", data={"username": "nomail", "email": "", "password": "abcd"})
    assert r.status_code == 302
    assert user(app, "nomail").email is None


def test_register_then_login_flashes(client):
    client.post("/auth/register", data={"username": "dave", "password": "abcd"})
    page = client.get("/auth/login")
    assert b"Account created" in page.data
    # Flashes are shown once.
    assert b"Account created" not in client.get("/auth/login").data


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("", "", "whatever", b"Username is required."),
        ("   ", "", "whatever", b"Username is required."),
        ("erin", "", "abc", b"Password must be at least 4 characters."),
        ("erin", "not-an-address", "abcd", b"Enter a valid e-mail address."),
        ("alice", "", "another", b"The username &#39;alice&#39; is already taken."),
    ],
)
def test_register_rejects_bad_input(client, app, username, email, password, message):
    r = client.post(
        "/auth/register", data={"username": username, "email": email, "password": password}
    )
    assert r.status_code == 200
    assert message in r.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_login_redirects_home(client, auth):
    r = auth.login()
    assert r.status_code == 302
    assert r.headers["Location"] == "/"

    with client:
        page = client.get("/")
        assert current_user.username == "alice"
    assert b"Welcome back, alice!" in page.data
    assert b'id="current-user" href="/users/alice">alice<' in page.data


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
        assert not current_user.is_authenticated


def test_logout(client, auth):
    auth.login()
    r = auth.logout()
    assert r.status_code == 302
    with client:
        page = client.get("/")
        assert not current_user.is_authenticated
    assert b"You have been logged out." in page.data
    assert b'id="login-link"' in page.data


def test_remember_me_survives_the_session(client, auth, app):
    auth.login(remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.http_only
    # A browser restart: the session cookie is gone, the remember cookie stays.
    client.delete_cookie("session")
    with client:
        client.get("/")
        assert current_user.username == "alice"

    auth.logout()
    assert client.get_cookie("remember_token") is None


def test_without_remember_me_the_session_is_all(client, auth):
    auth.login()
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    with client:
        client.get("/")
        assert not current_user.is_authenticated


def test_login_required_redirects_with_next(client):
    r = client.get("/posts/new")
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query) == {"next": ["/posts/new"]}

    r = client.post(
        r.headers["Location"], data={"username": "alice", "password": "wonderland"}
    )
    assert r.headers["Location"] == "/posts/new"


# Each of these sends a browser off the site (WHATWG URL parsing treats
# "\" as "/" and strips tabs and newlines), or runs script.
OFFSITE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "javascript:alert(1)",
    "http:evil.example",
    " //evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", OFFSITE)
def test_login_ignores_offsite_next(client, target):
    r = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": "wonderland"},
    )
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/posts/1", "/users/bob?tab=posts", "/posts/1#comments"])
def test_login_follows_same_site_next(client, target):
    r = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": "wonderland"},
    )
    location = r.headers["Location"]
    assert location == target
    # Resolved the way the standard library does, it stays on this host.
    assert urlsplit(urljoin("http://localhost/auth/login", location)).netloc == "localhost"


def test_deleted_user_is_treated_as_anonymous(client, auth, app):
    auth.login("bob")
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.username == "bob"))
        db.session.commit()
    with client:
        client.get("/")
        assert not current_user.is_authenticated


def test_username_is_unique_in_schema(app):
    with app.app_context():
        db.session.add(User(username="alice", password_hash="x"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
