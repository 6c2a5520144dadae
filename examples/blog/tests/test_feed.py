"""The index page's feed of new posts (Server-Sent Events) through the test
client, over WSGI and (FLASK_TEST_ASGI=1) over ASGI.

``LIVE_STREAM_MAX_AGE=0`` ends each stream after the first posts it sends
(or its first poll with nothing new), as an old stream ends in production,
so a plain request reads the whole stream.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t

import pytest

from blog.extensions import db
from blog.models import Post
from conftest import FailingBroker, build_app, seed
from services import REDIS, need

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient

# Bounds a hang only.
DEADLINE = 20.0


@pytest.fixture
def app(db_path: Path, tmp_path: Path) -> Flask:
    """The blog whose streams end after the first posts they send. Their
    poll (what ends a stream with nothing to send) waits ``DEADLINE``:
    ``nothing_more`` shortens it for a request that expects no post."""
    app = build_app(
        db_path, tmp_path, AUTO_UPGRADE=False, LIVE_STREAM_MAX_AGE=0, LIVE_STREAM_POLL=DEADLINE,
        LIVE_STREAM_RETRY=250,
    )
    seed(app)
    return app


def nothing_more(client: FlaskClient, **headers: str) -> None:
    """The stream from there has no post: it ends at its first poll."""
    client.application.config["LIVE_STREAM_POLL"] = 0.01
    try:
        assert feed(client, **headers) == []
    finally:
        client.application.config["LIVE_STREAM_POLL"] = DEADLINE


def listening(app: Flask) -> None:
    """Wait until a feed has subscribed to the broker's "posts" channel. A
    message the feed takes as a wake-up (it reads the database and finds
    nothing new) tells: the broker says how many subscribers got it."""
    broker = app.extensions["live"]
    deadline = time.monotonic() + DEADLINE
    while broker.publish("posts", {"type": "ping"}) == 0:
        assert time.monotonic() < deadline, "the feed never subscribed"
        time.sleep(0.01)


def add_posts(app: Flask, count: int) -> list[int]:
    """``count`` posts by alice, written straight to the database."""
    with app.app_context():
        posts = [Post(title=f"Post {n}", body=f"Body {n}", author_id=1) for n in range(count)]
        db.session.add_all(posts)
        db.session.commit()
        return [p.id for p in posts]


def events(body: bytes) -> list[dict[str, str]]:
    """The events of a stream, each as its fields (comments left out)."""
    found = []
    for frame in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if not line.startswith(":"))
        if fields:
            found.append(fields)
    return found


def feed(client: FlaskClient, query: str = "", **headers: str) -> list[dict[str, str]]:
    r = client.get("/live/posts" + query, headers=headers)
    assert r.status_code == 200, r.data
    assert r.mimetype == "text/event-stream"
    return events(r.data)


def ids(found: list[dict[str, str]]) -> list[int]:
    return [int(e["id"]) for e in found]


def test_resume_sends_exactly_the_posts_after_last_event_id(app, client):
    new = add_posts(app, 5)
    assert new == [2, 3, 4, 5, 6]
    got = feed(client, **{"Last-Event-ID": "3"})
    assert ids(got) == [4, 5, 6]
    for event, n in zip(got, (2, 3, 4)):
        assert event["event"] == "post"
        assert event["retry"] == "250"
        data = json.loads(event["data"])
        assert data["id"] == int(event["id"])
        assert (data["type"], data["title"], data["body"], data["author"]) == (
            "post", f"Post {n}", f"Body {n}", "alice",
        )
        assert (data["url"], data["author_url"], data["edit_url"]) == (
            f"/posts/{data['id']}", "/users/alice", f"/posts/{data['id']}/edit",
        )
    # The last post: nothing after it.
    nothing_more(client, **{"Last-Event-ID": "6"})


def test_the_page_says_where_it_starts_and_last_event_id_wins(app, client):
    add_posts(app, 3)  # 2, 3, 4
    assert b'data-feed-url="/live/posts?after=4"' in client.get("/").data
    assert ids(feed(client, "?after=2")) == [3, 4]
    # A reconnecting EventSource asks for the same URL with the header.
    assert ids(feed(client, "?after=2", **{"Last-Event-ID": "3"})) == [4]


def test_a_long_absence_gets_every_post_in_batches(app, client):
    new = add_posts(app, 250)  # more than one database read's batch
    assert ids(feed(client, **{"Last-Event-ID": "1"})) == new


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?after=x", {}),
        ("?after=-1", {}),
        ("?after=99999999999", {}),
        ("", {"Last-Event-ID": "4 2"}),
        # Digits to str.isdigit, but not ASCII ones (int() would take the first).
        ("", {"Last-Event-ID": "\u00b2"}),
        ("?after=\u0661", {}),
        ("?after=1", {"Last-Event-ID": "nope"}),
    ],
)
def test_an_id_that_is_no_post_id_is_refused(client, query, headers):
    assert client.get("/live/posts" + query, headers=headers).status_code == 400


def test_a_fresh_client_gets_the_posts_written_after_it_connected(app, client):
    """No Last-Event-ID and no ``after``: nothing old, then each new post,
    woken by the broker when the API publishes it."""
    add_posts(app, 2)  # before the connection: not sent
    writer = app.test_client()
    from conftest import Auth

    headers = Auth(writer).token("bob")
    made: list[int] = []

    def write_once_subscribed() -> None:
        listening(app)
        r = writer.post("/api/posts", json={"title": "Fresh", "body": "news"}, headers=headers)
        made.append(r.get_json()["id"])

    thread = threading.Thread(target=write_once_subscribed, daemon=True)
    thread.start()
    got = feed(client)
    thread.join(DEADLINE)
    assert made == [4]
    assert ids(got) == [4]
    assert json.loads(got[0]["data"])["title"] == "Fresh"


def test_the_wake_up_goes_through_redis_between_processes(db_path, tmp_path):
    """With REDIS_URL the feed listens on Redis pub/sub: the post written
    through another app (another worker) wakes it."""
    need(REDIS, 6379, "Redis")
    config = {"AUTO_UPGRADE": False, "LIVE_STREAM_MAX_AGE": 0, "LIVE_STREAM_POLL": DEADLINE}
    reader_app = build_app(db_path, tmp_path, REDIS_URL=REDIS, **config)
    seed(reader_app)
    writer_app = build_app(db_path, tmp_path, REDIS_URL=REDIS, **config)
    from conftest import Auth

    writer = writer_app.test_client()
    headers = Auth(writer).token("bob")

    def write_once_subscribed() -> None:
        listening(writer_app)  # Redis counts the other app's subscription
        writer.post("/api/posts", json={"title": "Across"}, headers=headers)

    thread = threading.Thread(target=write_once_subscribed, daemon=True)
    thread.start()
    # From post 1: another run on the same Redis may count as a subscriber
    # first, and then the post may be written before this feed connects.
    got = feed(reader_app.test_client(), "?after=1")
    thread.join(DEADLINE)
    assert ids(got) == [2]
    assert json.loads(got[0]["data"])["title"] == "Across"


def test_a_new_post_from_the_form_reaches_the_feed(app, client, auth):
    """The same for a post written through the page's form: the stream ends
    after it (max age 0); the page's reconnection resumes after it."""
    auth.login("bob")
    reader = app.test_client()
    got: list[list[dict[str, str]]] = []
    thread = threading.Thread(target=lambda: got.append(feed(reader)), daemon=True)
    thread.start()
    listening(app)
    r = client.post("/posts/new", data={"title": "Fresh <news>", "body": "b" * 400})
    assert r.status_code == 302 and r.headers["Location"] == "/posts/2"
    thread.join(DEADLINE)
    assert ids(got[0]) == [2]
    data = json.loads(got[0][0]["data"])
    assert (data["title"], data["body"], data["author"]) == ("Fresh <news>", "b" * 400, "bob")
    nothing_more(reader, **{"Last-Event-ID": "2"})


def test_the_default_stream_lives_five_minutes(tmp_path):
    app = build_app(tmp_path / "d.sqlite3", tmp_path)
    assert app.config["LIVE_STREAM_MAX_AGE"] == 300
    assert app.config["LIVE_STREAM_RETRY"] == 2000


def test_a_broker_failure_ends_the_stream_with_its_error(app, client):
    """The stream fails rather than go on deaf: the framework logs the error,
    the browser reconnects, and the reconnection reads what it missed."""
    app.extensions["live"] = FailingBroker()
    app.config["LIVE_STREAM_MAX_AGE"] = 300
    add_posts(app, 2)
    with pytest.raises(ConnectionError, match="broker gone"):
        client.get("/live/posts", headers={"Last-Event-ID": "1"}).get_data()
