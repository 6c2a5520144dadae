"""The post page's socket through the test client: comments sent, checked,
stored and pushed. (The index page's new posts come over Server-Sent
Events: tests/test_feed.py.)"""

from __future__ import annotations

import json
import typing as t

import pytest
import sqlalchemy as sa
from flask.testing import WebSocketRejected
from flask.websockets import WebSocketDisconnect

from blog.extensions import db
from conftest import FailingBroker

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient


def comments(app: Flask) -> list[tuple[int, str, str]]:
    """(post id, author name, body) of every stored comment, straight from SQL."""
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT c.post_id, u.username, c.body FROM comments c"
                " JOIN users u ON u.id = c.author_id ORDER BY c.id"
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def logged_in(app: Flask, username: str) -> FlaskClient:
    from conftest import PASSWORDS

    c = app.test_client()
    r = c.post("/auth/login", data={"username": username, "password": PASSWORDS[username]})
    assert r.status_code == 302
    return c


def receive_until(ws: t.Any, wanted: str, limit: int = 5) -> dict[str, t.Any]:
    for _ in range(limit):
        event = ws.receive_json(timeout=5)
        if event["type"] == wanted:
            return t.cast("dict[str, t.Any]", event)
    raise AssertionError(f"no {wanted!r} event")


def test_the_index_has_no_socket(client):
    # Its new posts come from the feed, GET /live/posts (tests/test_feed.py).
    with pytest.raises(WebSocketRejected):
        with client.websocket("/live/posts"):
            pass


def test_comment_over_the_socket_is_stored_and_pushed(app, client):
    bob = logged_in(app, "bob")
    with client.websocket("/live/posts/1") as watcher, bob.websocket("/live/posts/1") as ws:
        ws.send_json({"type": "comment", "body": "  Nice <b>post</b>  ", "ref": "r1"})
        first, second = ws.receive_json(timeout=5), ws.receive_json(timeout=5)
        pushed = watcher.receive_json(timeout=5)
    by_type = {first["type"]: first, second["type"]: second}
    assert by_type["saved"]["ref"] == "r1"
    assert comments(app) == [(1, "bob", "Nice <b>post</b>")]
    new_id = by_type["saved"]["id"]
    for event in (by_type["comment"], pushed):
        assert (event["id"], event["post_id"], event["author"], event["body"]) == (
            new_id, 1, "bob", "Nice <b>post</b>",
        )
    # Stored like a form comment: the page shows it, escaped.
    assert b"Nice &lt;b&gt;post&lt;/b&gt;" in client.get("/posts/1").data


def test_a_visitor_can_watch_but_not_comment(app, client):
    with client.websocket("/live/posts/1") as ws:
        ws.send_json({"type": "comment", "body": "anonymous", "ref": 7})
        assert ws.receive_json(timeout=5) == {
            "type": "error", "message": "Log in to comment.", "ref": 7,
        }
    assert comments(app) == []


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "comment", "body": ""}, "A comment needs some text."),
        ({"type": "comment", "body": "   "}, "A comment needs some text."),
        ({"type": "comment"}, "A comment needs some text."),
        ({"type": "comment", "body": 42}, "A comment needs some text."),
        ({"type": "comment", "body": "x" * 5001}, "A comment must be at most 5000 characters."),
        ({"type": "comment", "body": "a\x00b"}, "Comment must not contain NUL characters."),
        ({"type": "like"}, 'Send {"type": "comment", "body": "..."}.'),
        (["comment", "hi"], 'Send {"type": "comment", "body": "..."}.'),
        ("not json", 'Send {"type": "comment", "body": "..."}.'),
        (b"\xff\xfe binary", 'Send {"type": "comment", "body": "..."}.'),
    ],
)
def test_bad_comments_get_an_error_and_the_socket_stays(app, message, error):
    bob = logged_in(app, "bob")
    with bob.websocket("/live/posts/1") as ws:
        if isinstance(message, (str, bytes)):
            ws.send(message)
        else:
            ws.send_json(message)
        reply = ws.receive_json(timeout=5)
        assert reply["type"] == "error"
        assert reply["message"] == error
        assert comments(app) == []
        # Still open: the next, valid comment goes through.
        ws.send_json({"type": "comment", "body": "second try", "ref": "ok"})
        assert receive_until(ws, "saved")["ref"] == "ok"
    assert comments(app) == [(1, "bob", "second try")]


@pytest.mark.parametrize("post_id", [999, 2**40])
def test_comment_on_a_missing_post(app, post_id):
    bob = logged_in(app, "bob")
    with bob.websocket(f"/live/posts/{post_id}") as ws:
        ws.send_json({"type": "comment", "body": "hello?"})
        assert ws.receive_json(timeout=5) == {
            "type": "error", "message": f"There is no post with id {post_id}.",
        }
    assert comments(app) == []


def test_a_cross_site_page_cannot_use_the_readers_session(app):
    bob = logged_in(app, "bob")
    with pytest.raises(WebSocketRejected) as refused:
        with bob.websocket("/live/posts/1", headers={"Origin": "https://evil.example"}):
            pass
    assert refused.value.status == 403
    # The site's own pages (Origin = the Host connected to) get through.
    with bob.websocket("/live/posts/1", headers={"Origin": "http://localhost"}) as ws:
        ws.send_json({"type": "comment", "body": "from the site", "ref": 1})
        assert receive_until(ws, "saved")["ref"] == 1
    assert comments(app) == [(1, "bob", "from the site")]


def test_an_idle_socket_holds_no_database_connection(app):
    bob = logged_in(app, "bob")
    with app.app_context():
        pool = db.engine.pool
    with bob.websocket("/live/posts/1") as ws:
        for body in ("", "kept"):  # an error reply, then a stored comment
            ws.send_json({"type": "comment", "body": body, "ref": body})
            receive_until(ws, "error" if not body else "saved")
            assert pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_broker_failure_closes_with_1011(app, client):
    app.extensions["live"] = FailingBroker()
    with pytest.raises(ConnectionError, match="broker gone"):
        with client.websocket("/live/posts/1") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive(timeout=5)
            assert closed.value.code == 1011


def test_the_longest_comment_fits_a_socket_message_and_more_does_not(app):
    bob = logged_in(app, "bob")
    longest = "é" * 5000
    message = json.dumps({"type": "comment", "body": longest})
    assert len(message) > 30_000  # each é escaped to 6 bytes
    with bob.websocket("/live/posts/1") as ws:
        ws.send(message)
        assert receive_until(ws, "saved")
        ws.send(b"x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive(timeout=5)
    assert closed.value.code == 1009
    assert comments(app) == [(1, "bob", longest)]
