from __future__ import annotations

import pytest

from blog.db import get_db


def test_list_posts(client, auth):
    auth.login("bob")
    client.post("/api/posts", json={"title": "From bob", "body": "b"})
    auth.logout()

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


def test_list_empty(client, app):
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM posts")
        db.commit()
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
    auth.login()
    r = client.post("/api/posts", json={"title": " Via API ", "body": "json body"})
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
    auth.login()
    r = client.post("/api/posts", json={"title": "Just a title"})
    assert r.status_code == 201
    assert r.get_json()["body"] == ""


def test_create_requires_login(client, app):
    r = client.post("/api/posts", json={"title": "anon"})
    assert r.status_code == 401
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert body["error"] == "Unauthorized"
    assert body["status"] == 401
    with app.app_context():
        assert get_db().execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 1


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
    auth.login()
    r = client.post("/api/posts", json=payload)
    assert r.status_code == 400
    assert r.get_json() == {"error": "Bad Request", "message": "Invalid post.", "fields": fields}


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("not json", "application/json"), ("title=x", "application/x-www-form-urlencoded"),
     ("[1, 2]", "application/json")],
)
def test_create_needs_json_object(client, auth, data, content_type):
    auth.login()
    r = client.post("/api/posts", data=data, content_type=content_type)
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
