"""``stream_with_context`` never leaks a context and tears down once
(pallets/flask#6123), under WSGI and over ASGI."""

from __future__ import annotations

import gc
import importlib.util
import threading

import pytest
from werkzeug.test import create_environ

import flask

import stream_leak_scenario as scenario  # tests/ is on sys.path (rootdir conftest)


def test_abandoned_stream_finalized_on_another_thread():
    """The #6123 scenario (tests/stream_leak_scenario.py): a worker thread
    reads two chunks of a ``stream_with_context`` body, another thread drops
    it without ``close()`` and the garbage collector finalizes it; then 100
    requests on the worker thread.

    Pallets Flask 3.1.3 (``/tmp/pallets/bin/python
    tests/stream_leak_scenario.py``, measured): teardowns 2 for 101
    requests, all 100 later requests start with the stale app context still
    current (``g.db`` visible), the session is never closed.
    """
    result = scenario.abandoned_on_worker_thread()
    assert result == {
        "requests": 101,
        "teardowns": 101,
        "later_requests_with_stale_context": 0,
        "sessions_closed": 1,
        "sessions_opened": 1,
        "threads_serving_later_requests": 1,
    }


def test_client_disconnect_on_werkzeug_server():
    """The same over Werkzeug's server with one thread, which calls
    ``close()`` when its write fails.

    Pallets Flask 3.1.3 (measured): 102 teardowns for 101 requests (the
    streamed request's teardown runs before the stream and again after it),
    no stale context.
    """
    result = scenario.disconnect_on_werkzeug_server()
    assert result["teardowns"] == result["requests"] == 101
    assert result["later_requests_with_stale_context"] == 0
    assert result["sessions_closed"] == result["sessions_opened"] == 1
    assert result["threads_serving_later_requests"] == 1


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")
def test_client_disconnect_on_uvicorn():
    """Our ASGI path under uvicorn. (Pallets Flask has no ASGI path.)"""
    result = scenario.disconnect_on_uvicorn()
    assert result["teardowns"] == result["requests"] == 101
    assert result["later_requests_with_stale_context"] == 0
    assert result["sessions_closed"] == result["sessions_opened"] == 1


def _start_response(status, headers, exc_info=None):
    return lambda data: None


@pytest.fixture
def counted():
    app = flask.Flask(__name__)
    events: list[str] = []

    @app.teardown_request
    def request_down(exc):
        events.append(f"request {type(exc).__name__ if exc else None} g={flask.g.get('x')}")

    @app.teardown_appcontext
    def app_down(exc):
        events.append(f"app {type(exc).__name__ if exc else None}")

    return app, events


def test_teardown_runs_after_the_stream_in_its_context(counted):
    app, events = counted

    @app.route("/")
    def index():
        flask.g.x = "view"

        def gen():
            events.append("first chunk")
            yield flask.request.path
            flask.g.x = "stream"
            yield "!"

        return flask.stream_with_context(gen())

    body = app(create_environ("/"), _start_response)
    assert events == []  # the view returned; teardown waits for the stream
    assert not flask.has_app_context()
    assert b"".join(body) == b"/!"
    body.close()
    assert events == ["first chunk", "request None g=stream", "app None"]


def test_stream_error_reaches_teardown_once(counted):
    app, events = counted

    @app.route("/")
    def index():
        def gen():
            yield "a"
            raise KeyError("boom")

        return flask.stream_with_context(gen())

    body = app(create_environ("/"), _start_response)
    chunks = iter(body)
    assert next(chunks) == b"a"
    with pytest.raises(KeyError):
        next(chunks)
    body.close()
    assert events == ["request KeyError g=None", "app KeyError"]


def test_stream_never_iterated_is_torn_down_when_dropped(counted):
    app, events = counted
    finally_ran = threading.Event()

    @app.route("/")
    def index():
        def gen():
            try:
                yield "never"
            finally:
                finally_ran.set()

        return flask.stream_with_context(gen())

    body = app(create_environ("/"), _start_response)
    del body
    gc.collect()
    # Never started, so no finally; the request is still torn down.
    assert events == ["request None g=None", "app None"]
    assert not finally_ran.is_set()


def test_nothing_the_stream_sets_reaches_the_iterating_thread(app):
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    @app.route("/")
    def index():
        def gen():
            var.set("in stream")
            with app.app_context():
                yield var.get()

        return flask.stream_with_context(gen())

    body = app(create_environ("/"), _start_response)
    chunks = iter(body)
    assert next(chunks) == b"in stream"
    assert var.get() == "unset"
    assert not flask.has_app_context()
    body.close()
    assert not flask.has_app_context()


def test_outer_app_context_waits_for_the_stream(counted):
    """A stream made inside ``with app.app_context():`` keeps that context's
    teardown until it ends, too."""
    app, events = counted
    with app.app_context():
        with app.test_request_context():
            stream = flask.stream_with_context(iter(["a", "b"]))
    assert events == []
    assert list(stream) == ["a", "b"]
    assert events == ["request None g=None", "app None"]


def test_async_body_is_cancelled_where_it_waits_on_disconnect():
    """Over ASGI an async body waiting for its next chunk is stopped as
    soon as the server reports the disconnect, not at its next chunk."""
    import asyncio

    app = flask.Flask(__name__)
    finished = []
    torn_down = []
    app.teardown_request(lambda exc: torn_down.append(exc))

    @app.route("/")
    async def index():
        async def body():
            try:
                yield "first"
                await asyncio.Event().wait()  # a chunk that never comes
            finally:
                finished.append(flask.request.path)

        return body()

    async def scenario():
        sent: asyncio.Queue = asyncio.Queue()
        gone = asyncio.Event()

        async def receive():
            await gone.wait()
            return {"type": "http.disconnect"}

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
            "root_path": "", "query_string": b"", "headers": [(b"host", b"x")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }
        task = asyncio.ensure_future(app.asgi_app(scope, receive, sent.put))
        while (await asyncio.wait_for(sent.get(), 10)).get("body") != b"first":
            pass
        gone.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert finished == ["/"]
    assert torn_down == [None]
