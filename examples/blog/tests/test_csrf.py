"""CSRF: every state-changing form needs Flask-WTF's token; the API doesn't.

The app here runs with CSRF protection on, as in production. A forged POST
is one without the token, or with a token made under another secret key
(by Flask-WTF's own ``generate_csrf``), or one from another session.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from blog.extensions import db
from blog.models import Comment, Post, User, follows
from conftest import PASSWORDS, build_app, seed

FORMS = [
    ("/auth/register", {"username": "mallory", "password": "abcd"}),
    ("/auth/login", {"username": "alice", "password": PASSWORDS["alice"]}),
    ("/auth/logout", {}),
    ("/posts/new", {"title": "forged", "body": ""}),
    ("/posts/1/edit", {"title": "forged", "body": ""}),
    ("/posts/1/delete", {}),
    ("/posts/1/comments", {"body": "forged"}),
    ("/users/bob/follow", {}),
    ("/users/bob/unfollow", {}),
]


@pytest.fixture
def app(db_path, tmp_path):
    app = build_app(db_path, tmp_path, AUTO_UPGRADE=False, WTF_CSRF_ENABLED=True)
    seed(app)
    return app


def token_from(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return (match.group(1) or match.group(2)).decode()


def login(client) -> None:
    token = token_from(client.get("/auth/login").data)
    r = client.post(
        "/auth/login",
        data={"username": "alice", "password": PASSWORDS["alice"], "csrf_token": token},
    )
    assert r.status_code == 302


def snapshot(app):
    with app.app_context():
        s = db.session
        return (
            s.scalars(sa.select(User.username).order_by(User.id)).all(),
            s.execute(sa.select(Post.id, Post.title).order_by(Post.id)).all(),
            s.scalar(sa.select(sa.func.count(Comment.id))),
            s.scalar(sa.select(sa.func.count()).select_from(follows)),
        )


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_forged_post_without_token_is_rejected(app, client, path, data):
    login(client)
    before = snapshot(app)
    r = client.post(path, data=data)
    assert r.status_code == 400
    assert b"The CSRF token is missing." in r.data
    assert snapshot(app) == before
    with client:
        client.get("/")
        assert current_user.is_authenticated  # not even logged out


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_token_from_another_key_is_rejected(app, client, path, data):
    login(client)
    other = Flask("attacker")
    other.secret_key = "attacker"
    with other.test_request_context():
        forged = generate_csrf()
    before = snapshot(app)
    r = client.post(path, data={**data, "csrf_token": forged})
    assert r.status_code == 400
    assert b"The CSRF token is invalid." in r.data
    assert snapshot(app) == before


def test_token_from_another_session_is_rejected(app, client):
    login(client)
    stranger = app.test_client()
    foreign = token_from(stranger.get("/auth/login").data)
    r = client.post("/posts/new", data={"title": "forged", "body": "", "csrf_token": foreign})
    assert r.status_code == 400
    assert b"The CSRF tokens do not match." in r.data


def test_real_form_with_token_works(app, client):
    login(client)
    token = token_from(client.get("/posts/new").data)
    r = client.post("/posts/new", data={"title": "genuine", "body": "", "csrf_token": token})
    assert r.status_code == 302
    assert ("genuine",) in [(t,) for _, t in snapshot(app)[1]]


def test_every_post_form_on_the_pages_carries_a_token(app, client):
    login(client)
    for page in ("/", "/posts/1", "/posts/1/edit", "/posts/new", "/users/bob"):
        html = client.get(page).data.decode()
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf_token"' in form, (page, form[:80])


def test_api_is_exempt_but_needs_its_token(app, client):
    r = client.post("/api/tokens", json={"username": "bob", "password": PASSWORDS["bob"]})
    assert r.status_code == 201
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    r = client.post("/api/posts", json={"title": "via api"}, headers=headers)
    assert r.status_code == 201
    # No CSRF token, no bearer token: 401, not a CSRF 400 and not a post.
    assert client.post("/api/posts", json={"title": "anon"}).status_code == 401
