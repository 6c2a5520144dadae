"""Bad client input gets a clean 4xx, never a 500, on SQLite and PostgreSQL.

PostgreSQL is the stricter of the two (no NUL in text, 32-bit integer ids),
so the same requests run against a scratch PostgreSQL database too.
"""

from __future__ import annotations

import typing as t


from conftest import PASSWORDS, build_app, seed

BIG = "99999999999999999999999"

REQUESTS: list[tuple[str, str, dict[str, t.Any], int]] = [
    ("get", f"/posts/{BIG}", {}, 404),
    ("get", "/posts/2147483648", {}, 404),
    ("get", f"/api/posts/{BIG}", {}, 404),
    ("post", f"/posts/{BIG}/comments", {"data": {"body": "x"}}, 404),
    ("get", "/users/a%00b", {}, 404),
    ("get", "/users/" + "x" * 500, {}, 404),
    ("post", "/posts/new", {"data": {"title": "a\x00b", "body": ""}}, 200),
    ("post", "/posts/new", {"data": {"title": "ok", "body": "a\x00b"}}, 200),
    ("post", "/posts/1/comments", {"data": {"body": "a\x00b"}}, 302),
    ("post", "/auth/register", {"data": {"username": "a\x00b", "password": "abcd"}}, 200),
    ("post", "/auth/login", {"data": {"username": "a\x00b", "password": "abcd"}}, 200),
    ("post", "/api/tokens", {"json": {"username": "a\x00b", "password": "x"}}, 401),
    ("post", "/api/posts", {"json": {"title": "a\x00b"}, "token": True}, 400),
    ("post", "/api/posts", {"json": {"title": "ok", "body": "\x00"}, "token": True}, 400),
]


def run_requests(app: t.Any) -> None:
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": PASSWORDS["alice"]})
    r = client.post("/api/tokens", json={"username": "alice", "password": PASSWORDS["alice"]})
    token = {"Authorization": f"Bearer {r.get_json()['token']}"}
    for method, path, kw, expected in REQUESTS:
        kw = dict(kw)
        headers = token if kw.pop("token", False) else {}
        r = getattr(client, method)(path, headers=headers, **kw)
        assert r.status_code == expected, (method, path, r.status_code)
    # None of it was stored.
    assert b"a\x00b" not in client.get("/api/posts").data
    assert b"must not contain NUL" in client.post(
        "/posts/new", data={"title": "a\x00b", "body": ""}
    ).data


def test_bad_input_on_sqlite(app):
    run_requests(app)


def test_bad_input_on_postgresql(pg_url, tmp_path):
    app = build_app(tmp_path / "unused", tmp_path, SQLALCHEMY_DATABASE_URI=pg_url, AUTO_UPGRADE=False)
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    seed(app)
    try:
        run_requests(app)
    finally:
        with app.app_context():
            from blog.extensions import db

            db.engine.dispose()
