"""Live updates: in-process pub/sub, and Redis pub/sub across processes."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid


from blog import live
from services import REDIS, need


def collect(subscribe, channel, count, ready: threading.Event, timeout=10.0):
    """Subscribe on a loop of its own (as a WebSocket handler would)."""
    got: list[dict] = []

    async def main() -> None:
        async with subscribe(channel) as events:
            ready.set()
            async for event in events:
                got.append(event)
                if len(got) == count:
                    return

    def run() -> None:
        asyncio.run(asyncio.wait_for(main(), timeout))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return got, thread


def test_local_broker_delivers_across_threads():
    broker = live.LocalBroker()
    ready = threading.Event()
    got, thread = collect(broker.subscribe, "post:1", 2, ready)
    assert ready.wait(5)
    assert broker.publish("post:1", {"n": 1}) == 1
    assert broker.publish("post:2", {"n": "other channel"}) == 0
    assert broker.publish("post:1", {"n": 2}) == 1
    thread.join(10)
    assert got == [{"n": 1}, {"n": 2}]
    # The subscription is gone once the handler leaves.
    assert broker.publish("post:1", {"n": 3}) == 0


def test_redis_broker_reaches_another_worker():
    need(REDIS, 6379, "Redis")
    import redis

    prefix = f"blog-test-{uuid.uuid4().hex[:8]}:"
    worker_a = live.RedisBroker(REDIS, prefix=prefix)
    worker_b = live.RedisBroker(REDIS, prefix=prefix)
    ready = threading.Event()
    got, thread = collect(worker_b.subscribe, "post:7", 1, ready)
    assert ready.wait(5)
    # What a plain Redis client sees on the channel is the JSON event.
    spy = redis.Redis.from_url(REDIS).pubsub(ignore_subscribe_messages=True)
    spy.subscribe(prefix + "post:7")
    assert worker_a.publish("post:7", {"type": "comment", "body": "hi"}) == 2
    thread.join(10)
    assert got == [{"type": "comment", "body": "hi"}]
    message = None
    for _ in range(50):  # the first reads may return the subscribe reply
        message = spy.get_message(timeout=0.1)
        if message is not None:
            break
    assert message is not None
    assert json.loads(message["data"]) == {"type": "comment", "body": "hi"}
    spy.close()


def test_app_picks_the_broker_from_the_config(app, tmp_path):
    assert isinstance(app.extensions["live"], live.LocalBroker)
    from conftest import build_app

    other = build_app(tmp_path / "x.sqlite3", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert isinstance(other.extensions["live"], live.RedisBroker)


def test_comment_is_published_to_the_posts_channel(client, auth, app):
    broker = app.extensions["live"]
    ready = threading.Event()
    got, thread = collect(broker.subscribe, "post:1", 1, ready)
    assert ready.wait(5)
    auth.login("bob")
    client.post("/posts/1/comments", data={"body": "live one"})
    thread.join(10)
    assert got[0]["type"] == "comment"
    assert (got[0]["author"], got[0]["body"], got[0]["post_id"]) == ("bob", "live one", 1)


def test_publish_failure_does_not_fail_the_write(client, auth, tmp_path, caplog):
    from conftest import build_app, seed

    app = build_app(tmp_path / "r.sqlite3", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    seed(app)
    c = app.test_client()
    c.post("/auth/login", data={"username": "bob", "password": "builder"})
    r = c.post("/posts/1/comments", data={"body": "still saved"})
    assert r.status_code == 302
    assert b"still saved" in c.get("/posts/1").data
    assert "could not publish a live update on 'post:1'" in caplog.text


def test_pages_open_their_live_parts(client):
    # The index follows its feed (Server-Sent Events, blog.feed), from the
    # newest post it shows; it opens no socket.
    index = client.get("/").data
    assert b'<section id="posts" data-feed-url="/live/posts?after=1">' in index
    assert b"data-live-url" not in index
    assert b"live.js" in index
    page = client.get("/posts/1").data
    assert b'data-live-url="/live/posts/1"' in page
    assert b"live.js" in page
    with client.application.app_context():
        assert live.enabled()


def test_live_script_is_served(client):
    with client.get("/static/live.js") as r:
        assert r.status_code == 200
        # User input goes in as text, never as markup.
        assert b"innerHTML" not in r.data
        assert b'el("span", "text", event.body)' in r.data
        assert b'new EventSource(postList.dataset.feedUrl)' in r.data
