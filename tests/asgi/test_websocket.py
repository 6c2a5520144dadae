"""Where a WebSocket route's hooks run (issue 20): coroutine functions are
awaited on the event loop, sync ones run in the thread pool, as for HTTP
over ASGI; and what a handler's return value does (issue 24).

The event loop's thread is the one an ``async def`` handler runs in; a
sync function "runs in the pool" when its thread is another one. Nothing
here measures time: waits are on events, their timeouts only keep a broken
build from hanging.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import typing as t

import pytest

import flask
from flask import g
from flask import websocket
from flask.testing import WebSocketRejected
from flask.websockets import WebSocketDisconnect

RFC6455_INTERNAL = 1011


@pytest.fixture
def app() -> flask.Flask:
    return flask.Flask(__name__)


def loop_thread_recorder(app: flask.Flask, seen: dict[str, t.Any]) -> None:
    """An echo route at /ws whose async handler records the loop's thread."""

    @app.websocket("/ws")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        await websocket.send(await websocket.receive())


# -- teardown ----------------------------------------------------------------------


def test_async_teardown_request_runs_on_the_loop(app):
    # The issue's reproduction: this raised "You cannot use AsyncToSync in
    # the same thread as an async event loop" and td never ran.
    seen: dict[str, t.Any] = {}

    @app.teardown_request
    async def td(exc):
        seen["td"] = (threading.current_thread(), exc)

    loop_thread_recorder(app, seen)
    with app.test_client().websocket("/ws") as c:
        c.send("hi")
        assert c.receive() == "hi"
    assert seen["td"] == (seen["loop"], None)


def test_async_teardown_appcontext_runs_on_the_loop(app):
    seen: dict[str, t.Any] = {}

    @app.teardown_appcontext
    async def td(exc):
        seen["td"] = (threading.current_thread(), exc)

    loop_thread_recorder(app, seen)
    with app.test_client().websocket("/ws") as c:
        c.send("hi")
        assert c.receive() == "hi"
    assert seen["td"] == (seen["loop"], None)


def test_sync_teardowns_run_in_the_pool(app):
    seen: dict[str, t.Any] = {}

    @app.teardown_request
    def td_request(exc):
        seen["request"] = threading.current_thread()
        seen["g"] = g.get("who")

    @app.teardown_appcontext
    def td_app(exc):
        seen["app"] = threading.current_thread()

    @app.websocket("/ws")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        g.who = "handler"
        await websocket.send("x")

    with app.test_client().websocket("/ws") as c:
        assert c.receive() == "x"
    assert seen["request"] is not seen["loop"]
    assert seen["app"] is not seen["loop"]
    assert seen["g"] == "handler"  # same context as the handler


def test_async_teardown_sees_the_error(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = []

    @app.teardown_request
    async def td(exc):
        seen.append(type(exc))

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        raise KeyError("boom")

    with app.test_client().websocket("/ws") as c:
        with pytest.raises(WebSocketDisconnect):
            c.receive()
    assert seen == [KeyError]


def _ws_scope(path: str) -> dict[str, t.Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "subprotocols": [],
    }


def _http_scope(path: str) -> dict[str, t.Any]:
    scope = _ws_scope(path)
    scope.update(type="http", scheme="http", method="GET")
    del scope["subprotocols"]
    return scope


def test_sync_teardown_does_not_block_a_concurrent_http_request(app):
    # The WebSocket's teardown waits for an event that only the loop sets,
    # after it served an HTTP request: on the loop it would wait in vain.
    entered = threading.Event()
    release = threading.Event()
    released: list[bool] = []

    @app.teardown_request
    def td(exc):
        if flask.request.path == "/ws":
            entered.set()
            released.append(release.wait(10))

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()

    @app.get("/")
    async def index() -> str:
        return "hello"

    async def main() -> list[dict[str, t.Any]]:
        to_app: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
        await to_app.put({"type": "websocket.connect"})

        async def ws_send(message: t.MutableMapping[str, t.Any]) -> None:
            pass

        connection = asyncio.ensure_future(app.asgi_app(_ws_scope("/ws"), to_app.get, ws_send))
        assert await asyncio.to_thread(entered.wait, 10)
        http_sent: list[dict[str, t.Any]] = []

        async def http_receive() -> dict[str, t.Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def http_send(message: t.MutableMapping[str, t.Any]) -> None:
            http_sent.append(dict(message))

        await app.asgi_app(_http_scope("/"), http_receive, http_send)
        release.set()
        await connection
        return http_sent

    http_sent = asyncio.run(main())
    assert http_sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in http_sent[1:]) == b"hello"
    assert released == [True]


# -- URL value preprocessors -----------------------------------------------------------


def test_async_url_value_preprocessor_is_awaited(app):
    seen: dict[str, t.Any] = {}

    @app.url_value_preprocessor
    async def pull_room(endpoint, values):
        seen["thread"] = threading.current_thread()
        g.room = values.pop("room")

    @app.websocket("/ws/<room>")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        await websocket.send(g.room)

    with app.test_client().websocket("/ws/blue") as c:
        assert c.receive() == "blue"
    assert seen["thread"] is seen["loop"]


def test_sync_url_value_preprocessor_runs_in_the_pool(app):
    seen: dict[str, t.Any] = {}

    @app.url_value_preprocessor
    def pull_room(endpoint, values):
        seen["thread"] = threading.current_thread()
        seen["endpoint"] = endpoint
        g.room = values.pop("room")

    @app.websocket("/ws/<room>")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        await websocket.send(g.room)

    with app.test_client().websocket("/ws/red") as c:
        assert c.receive() == "red"
    assert seen["thread"] is not seen["loop"]
    assert seen["endpoint"] == "ws"


# -- error handlers --------------------------------------------------------------------


def test_async_error_handler_shapes_the_refusal(app):
    seen: dict[str, t.Any] = {}

    @app.errorhandler(403)
    async def forbidden(e):
        seen["thread"] = threading.current_thread()
        return "go away", 403

    @app.websocket("/ws")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        flask.abort(403)

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status == 403 and info.value.body == b"go away"
    assert seen["thread"] is seen["loop"]


def test_async_error_handler_after_accept(app, caplog):
    seen: dict[str, t.Any] = {}

    @app.errorhandler(KeyError)
    async def on_key_error(e):
        seen["thread"] = threading.current_thread()
        return "ignored"

    @app.websocket("/ws")
    async def ws() -> None:
        seen["loop"] = threading.current_thread()
        await websocket.send("start")
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR):
        with app.test_client().websocket("/ws") as c:
            assert c.receive() == "start"
            with pytest.raises(WebSocketDisconnect) as info:
                c.receive()
    assert info.value.code == RFC6455_INTERNAL
    assert seen["thread"] is seen["loop"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_sync_error_handlers_run_in_the_pool(app):
    seen: dict[str, t.Any] = {}

    @app.errorhandler(403)
    def forbidden(e):
        seen["before accept"] = threading.current_thread()
        return "no", 403

    @app.errorhandler(KeyError)
    def on_key_error(e):
        seen["after accept"] = threading.current_thread()
        return "ignored"

    @app.websocket("/ws/<int:n>")
    async def ws(n: int) -> None:
        seen["loop"] = threading.current_thread()
        if n == 0:
            flask.abort(403)
        await websocket.send("start")
        raise KeyError("boom")

    client = app.test_client()
    with pytest.raises(WebSocketRejected):
        with client.websocket("/ws/0"):
            pass
    with client.websocket("/ws/1") as c:
        assert c.receive() == "start"
        with pytest.raises(WebSocketDisconnect):
            c.receive()
    assert seen["before accept"] is not seen["loop"]
    assert seen["after accept"] is not seen["loop"]


# -- after_websocket -----------------------------------------------------------------


def test_after_websocket_async_on_the_loop_sync_in_the_pool(app):
    seen: dict[str, t.Any] = {}

    @app.after_websocket
    async def after_async(response):
        seen["async"] = threading.current_thread()
        return response

    @app.after_websocket
    def after_sync(response):
        seen["sync"] = threading.current_thread()
        return response

    loop_thread_recorder(app, seen)
    with app.test_client().websocket("/ws") as c:
        c.send("hi")
        assert c.receive() == "hi"
    assert seen["async"] is seen["loop"]
    assert seen["sync"] is not seen["loop"]


# -- a handler's return value (issue 24) ------------------------------------------------


def test_return_value_after_accept_is_logged_once_per_endpoint(app, caplog):
    @app.websocket("/ws")
    async def chat() -> str:
        await websocket.send("hi")
        return "lost"

    @app.websocket("/other")
    def other() -> dict[str, int]:
        websocket.accept()
        return {"n": 1}

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for _ in range(2):
            with client.websocket("/ws") as c:
                assert c.receive() == "hi"
        with client.websocket("/other"):
            pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "'chat'" in warnings[0] and "str" in warnings[0]
    assert "'other'" in warnings[1] and "dict" in warnings[1]


def test_no_warning_for_none_after_accept(app, caplog):
    @app.websocket("/ws")
    async def chat() -> None:
        await websocket.send("hi")

    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        with app.test_client().websocket("/ws") as c:
            assert c.receive() == "hi"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("value", "status", "body"),
    [
        ("not today", 403, b"not today"),
        ({"error": "no"}, 403, b'{"error":"no"}\n'),
        (("not today", {"X-Why": "auth"}), 403, b"not today"),
        (("no", 401), 401, b"no"),
        (("no", 429, {"Retry-After": "5"}), 429, b"no"),
        (flask.Response("teapot", status=418), 418, b"teapot"),
        ((flask.Response("teapot", status=418), {"X-Why": "tea"}), 418, b"teapot"),
    ],
)
def test_refusal_without_a_status_is_403(app, value, status, body):
    @app.websocket("/ws")
    async def handler() -> t.Any:
        return value

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert (info.value.status, info.value.body) == (status, body)


def test_before_hook_refusal_without_a_status_is_403(app):
    @app.before_websocket
    def check() -> str:
        return "login first"

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert (info.value.status, info.value.body) == (403, b"login first")


def test_error_handler_refusal_without_a_status_keeps_the_error_code(app):
    @app.errorhandler(404)
    def missing(e) -> str:
        return "no such room"

    @app.websocket("/ws")
    async def handler() -> None:
        flask.abort(404)

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert (info.value.status, info.value.body) == (404, b"no such room")
