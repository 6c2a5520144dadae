from __future__ import annotations

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from blog.extensions import db
from blog.models import Post


def post_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Post.id)))


def test_list_posts(client, auth):
    r = client.post("/api/posts", json={"title": "From bob", "body": "b"}, headers=auth.token("bob"))
    assert r.status_code == 201

    r = client.get("/api/posts")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    posts = r.get_json()["posts"]
    assert [p["title"] for p in posts] == ["From bob", "First light"]
    assert posts[1] == {
        "id": 1,
        "title": "First light",
        "body": "Hello from alice.",
        "author": "alice",
        "created": "2024-05-01 09:30:00",
        "url": "http://localhost/api/posts/1",
    }


def test_list_empty(client, app, auth):
    auth.login()
    client.post("/posts/1/delete")
    assert client.get("/api/posts").get_json() == {"posts": []}


def test_get_post(client):
    r = client.get("/api/posts/1")
    assert r.status_code == 200
    assert r.get_json()["author"] == "alice"


def test_get_missing_post(client):
    r = client.get("/api/posts/404")
    assert r.status_code == 404
    assert r.mimetype == "application/json"
    assert r.get_json() == {
        "error": "Not Found",
        "message": "There is no post with id 404.",
        "status": 404,
    }


def test_create_post(client, auth, app):
    r = client.post(
        "/api/posts", json={"title": " Via API ", "body": "json body"}, headers=auth.token()
    )
    assert r.status_code == 201
    assert r.headers["Location"] == "/api/posts/2"
    data = r.get_json()
    assert data["id"] == 2
    assert data["title"] == "Via API"
    assert data["author"] == "alice"
    assert client.get("/api/posts/2").get_json() == data
    # The HTML side sees it as well.
    assert b"Via API" in client.get("/").data


def test_create_post_body_optional(client, auth):
    r = client.post("/api/posts", json={"title": "Just a title"}, headers=auth.token())
    assert r.status_code == 201
    assert r.get_json()["body"] == ""


def test_create_requires_token(client, app):
    r = client.post("/api/posts", json={"title": "anon"})
    assert r.status_code == 401
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert body["error"] == "Unauthorized"
    assert body["status"] == 401
    assert post_count(app) == 1


def test_session_cookie_does_not_authorize_api_writes(client, auth, app):
    # The API is exempt from CSRF because cookies don't count there: a
    # logged-in browser tricked into posting must get a 401.
    auth.login()
    r = client.post("/api/posts", json={"title": "forged"})
    assert r.status_code == 401
    assert post_count(app) == 1


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Basic YWxpY2U6d29uZGVybGFuZA==",
        "Bearer",
        # Signed with another key: ItsDangerous itself made it.
        "Bearer " + URLSafeTimedSerializer("other-key", salt="blog-api-token").dumps({"uid": 1, "pw": "x"}),
    ],
)
def test_bad_tokens_are_refused(client, app, header):
    r = client.post("/api/posts", json={"title": "x"}, headers={"Authorization": header})
    assert r.status_code == 401
    assert post_count(app) == 1


def test_token_dies_with_a_password_change(client, auth, app):
    headers = auth.token()
    with app.app_context():
        from werkzeug.security import generate_password_hash

        from blog.models import User

        alice = db.session.get(User, 1)
        alice.password_hash = generate_password_hash("changed", method="pbkdf2:sha256:1000")
        db.session.commit()
    assert client.post("/api/posts", json={"title": "x"}, headers=headers).status_code == 401


@pytest.mark.parametrize(
    "payload",
    [{"username": "alice", "password": "nope"}, {"username": "zed", "password": "x"},
     {"username": 1, "password": []}, {}],
)
def test_token_needs_credentials(client, payload):
    r = client.post("/api/tokens", json=payload)
    assert r.status_code == 401
    assert r.get_json()["error"] == "Unauthorized"


def test_token_response(client):
    r = client.post("/api/tokens", json={"username": "alice", "password": "wonderland"})
    body = r.get_json()
    assert r.status_code == 201
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 30 * 24 * 3600
    # An ItsDangerous token under the app's key and the API's salt.
    data = URLSafeTimedSerializer("test", salt="blog-api-token").loads(body["token"])
    assert data["uid"] == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"title": "Title is required."}),
        ({"title": "   "}, {"title": "Title is required."}),
        ({"title": "x" * 201}, {"title": "Title must be at most 200 characters."}),
        ({"title": 5, "body": []}, {"title": "Title must be a string.", "body": "Body must be a string."}),
    ],
)
def test_create_validation_errors(client, auth, payload, fields):
    r = client.post("/api/posts", json=payload, headers=auth.token())
    assert r.status_code == 400
    assert r.get_json() == {"error": "Bad Request", "message": "Invalid post.", "fields": fields}


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("not json", "application/json"), ("title=x", "application/x-www-form-urlencoded"),
     ("[1, 2]", "application/json")],
)
def test_create_needs_json_object(client, auth, data, content_type):
    r = client.post("/api/posts", data=data, content_type=content_type, headers=auth.token())
    assert r.status_code == 400
    assert r.get_json()["message"] == "Expected a JSON object."


def test_api_method_not_allowed_is_json(client):
    r = client.delete("/api/posts/1")
    assert r.status_code == 405
    assert r.mimetype == "application/json"
    assert r.get_json()["error"] == "Method Not Allowed"
    assert "GET" in r.headers["Allow"]


def test_unknown_api_path_is_json(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.get_json()["error"] == "Not Found"
