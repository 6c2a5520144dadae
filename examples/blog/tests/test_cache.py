"""Flask-Caching keeps the index's posts until a write changes them."""

from __future__ import annotations

import pickle
import uuid

import pytest
import sqlalchemy as sa

from conftest import build_app, seed
from services import REDIS, need


def rename_behind_the_apps_back(app, title: str) -> None:
    """Change post 1 with plain SQL, so no invalidation runs."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE posts SET title = :t WHERE id = 1"), {"t": title})
    engine.dispose()


def test_index_is_served_from_the_cache(client, app):
    assert b"First light" in client.get("/").data
    rename_behind_the_apps_back(app, "Renamed quietly")
    # The shortcut is taken: the page still shows what the cache holds...
    assert b"First light" in client.get("/").data
    assert b"First light" in client.get("/api/posts").data
    # ...while the detail page reads the database.
    assert b"Renamed quietly" in client.get("/posts/1").data


WRITES = {
    "html create": lambda c, a: c.post("/posts/new", data={"title": "New one", "body": ""}),
    "html edit": lambda c, a: c.post("/posts/1/edit", data={"title": "Edited", "body": ""}),
    "html delete": lambda c, a: c.post("/posts/1/delete"),
    "api create": lambda c, a: c.post("/api/posts", json={"title": "New one"}, headers=a.token()),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=list(WRITES))
def test_writes_invalidate_the_index(client, auth, app, write):
    auth.login()
    client.get("/")
    rename_behind_the_apps_back(app, "Renamed quietly")
    assert b"Renamed quietly" not in client.get("/").data
    r = write(client, auth)
    assert r.status_code in (201, 302)
    page = client.get("/").data
    # Whatever the write was, the page is rebuilt from the database.
    assert b"First light" not in page
    if b"Edited" not in page and b"Nothing here yet." not in page:
        assert b"Renamed quietly" in page


def test_redis_cache(db_path, tmp_path):
    need(REDIS, 6379, "Redis")
    import redis

    prefix = f"blog-test-{uuid.uuid4().hex[:8]}:"
    app = build_app(
        db_path, tmp_path, AUTO_UPGRADE=False, CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=REDIS, CACHE_KEY_PREFIX=prefix,
    )
    seed(app)
    client = app.test_client()
    r = redis.Redis.from_url(REDIS)
    try:
        client.get("/")
        raw = r.get(prefix + "index-posts")
        assert raw is not None
        # Flask-Caching's Redis format: "!" then a pickle.
        assert [p["title"] for p in pickle.loads(raw[1:])] == ["First light"]
        client.post("/auth/login", data={"username": "alice", "password": "wonderland"})
        client.post("/posts/new", data={"title": "Fresh", "body": ""})
        assert r.get(prefix + "index-posts") is None
    finally:
        for key in r.scan_iter(prefix + "*"):
            r.delete(key)
