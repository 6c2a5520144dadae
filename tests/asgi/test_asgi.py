"""The ASGI entry point in-process: scope -> environ, body receiving,
where code runs, streaming, disconnects, lifespan and isolation.

Requests are driven by hand-made scope/receive/send, the way a server
does; expected values come from the HTTP and ASGI specs or from Werkzeug.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
import typing as t
import warnings

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

import flask
from flask import concurrency
from flask.asgi import environ_from_scope


def make_scope(
    path: str = "/",
    method: str = "GET",
    headers: t.Sequence[tuple[bytes, bytes]] = (),
    query: bytes = b"",
    **extra: t.Any,
) -> dict[str, t.Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("10.1.2.3", 5555),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


class Exchange:
    """One request's messages: what the app received and sent."""

    def __init__(self, bodies: t.Sequence[bytes] = (b"",), disconnect_after: int | None = None):
        self.bodies = list(bodies)
        self.received = 0
        self.sent: list[dict[str, t.Any]] = []
        self.disconnect_after = disconnect_after
        self.finished = asyncio.Event()
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, t.Any]:
        if self.received < len(self.bodies):
            body = self.bodies[self.received]
            self.received += 1
            return {
                "type": "http.request",
                "body": body,
                "more_body": self.received < len(self.bodies),
            }
        if self.disconnect_after is not None:
            await self.gone.wait()
            return {"type": "http.disconnect"}
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, t.Any]) -> None:
        self.sent.append(message)
        if self.disconnect_after is not None and self.chunks_sent() >= self.disconnect_after:
            self.gone.set()
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.finished.set()

    def chunks_sent(self) -> int:
        return sum(1 for m in self.sent if m["type"] == "http.response.body")

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def serve(app: flask.Flask, scope: dict[str, t.Any], exchange: Exchange | None = None) -> Exchange:
    exchange = exchange or Exchange()

    async def main() -> None:
        await app.asgi_app(scope, exchange.receive, exchange.send)

    asyncio.run(main())
    return exchange


# -- the environ ----------------------------------------------------------------


def test_environ_matches_werkzeug_for_the_same_request():
    scope = make_scope(
        "/app/caf\u00e9/x",
        method="POST",
        headers=[
            (b"content-type", b"text/plain"),
            (b"content-length", b"3"),
            (b"x-thing", b"a"),
            (b"x-thing", b"b"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
        query=b"q=%C3%A9&r=1",
        root_path="/app",
        scheme="https",
        server=("example.org", 8443),
    )
    environ = environ_from_scope(scope, io.BytesIO(b"abc"))
    expected = EnvironBuilder(
        path="/caf\u00e9/x",
        base_url="https://example.org:8443/app",
        method="POST",
        query_string="q=%C3%A9&r=1",
        data=b"abc",
        content_type="text/plain",
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    ).get_environ()
    for key in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
                "SERVER_NAME", "SERVER_PORT", "CONTENT_TYPE", "CONTENT_LENGTH",
                "wsgi.url_scheme", "REMOTE_ADDR"):
        assert environ[key] == expected[key], key
    request = WerkzeugRequest(environ)
    assert request.url == "https://testserver/app/caf\u00e9/x?q=\u00e9&r=1"
    assert request.args["q"] == "\u00e9"
    assert request.get_data() == b"abc"
    # RFC 9110 5.3: repeated fields join with commas; RFC 6265 5.4: one
    # Cookie header whose pairs are separated by "; ".
    assert environ["HTTP_X_THING"] == "a,b"
    assert request.cookies.to_dict() == {"a": "1", "b": "2"}


@pytest.mark.parametrize(("scheme", "url_scheme"), [("ws", "http"), ("wss", "https")])
def test_websocket_scope_environ(scheme, url_scheme):
    scope = make_scope("/chat", type="websocket", scheme=scheme)
    del scope["method"]
    environ = environ_from_scope(scope, io.BytesIO())
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["wsgi.url_scheme"] == url_scheme


def test_header_names_with_underscores_are_dropped():
    # Like Werkzeug's development server: X_Forwarded_For must not pose as
    # X-Forwarded-For once both become HTTP_X_FORWARDED_FOR.
    environ = environ_from_scope(make_scope(headers=[(b"x_forwarded_for", b"1.1.1.1")]), io.BytesIO())
    assert "HTTP_X_FORWARDED_FOR" not in environ


def test_websocket_without_support_closes(app, monkeypatch):
    # As if flask.asgi.websocket (the WebSocket support) were not installed.
    monkeypatch.setitem(sys.modules, "flask.asgi.websocket", None)
    scope = make_scope("/ws", type="websocket", scheme="ws")
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(app.asgi_app(scope, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1000}]


@pytest.mark.parametrize("stream", [False, True])
def test_request_and_environ_are_freed_without_the_cycle_collector(app, stream):
    """The request refers to its environ and the environ to the request
    (``werkzeug.request``, as Werkzeug sets it); once the request is over
    nothing but the cycle collector would free them. With it switched off,
    both must be gone as soon as the server is done with the request."""
    import gc
    import weakref

    seen: list[t.Any] = []

    @app.route("/")
    def index() -> t.Any:  # in the pool, whose thread must let go of it too
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
        assert request.environ["werkzeug.request"] is request  # during the request, as Werkzeug has it
        seen.append(weakref.ref(request))
        seen.append(weakref.ref(request.environ["wsgi.input"]))
        return flask.Response(iter([b"a", b"b"])) if stream else "ok"

    gc.collect()
    gc.disable()
    try:
        exchange = serve(app, make_scope())
        assert exchange.status == 200
        del exchange
        assert [ref() for ref in seen] == [None, None]
    finally:
        gc.enable()


@pytest.mark.parametrize("kind", ["str", "response", "error"])
def test_a_buffered_answer_is_sent_with_the_request_popped(app, kind):
    """Servers copy the context while sending: uvicorn arms its keep-alive
    timer (``loop.call_later``, whose handle holds a copy of the context
    until it is due, cancelled or not) inside the last ``send``. A buffered
    answer is torn down before it is sent, so its contexts must be popped
    by then too, as under WSGI, where the pop comes before the server
    writes the body; otherwise every request stays alive in the timer's
    copy for the keep-alive timeout (5 s), and the cycle collector runs
    about once per 50 requests over objects it cannot free."""
    import contextvars
    import gc
    import weakref

    seen: list[t.Any] = []

    @app.route("/")
    async def index() -> t.Any:
        seen.append(weakref.ref(flask.request._get_current_object()))  # type: ignore[attr-defined]
        if kind == "error":
            flask.abort(404)
        return "ok" if kind == "str" else flask.Response(["ok"], headers={"X-Kind": "response"})

    copies: list[contextvars.Context] = []

    class Copying(Exchange):
        async def send(self, message: dict[str, t.Any]) -> None:
            copies.append(contextvars.copy_context())
            await super().send(message)

    gc.collect()
    gc.disable()
    try:
        exchange = serve(app, make_scope(), Copying())
        assert exchange.status == (404 if kind == "error" else 200)
        assert len(copies) == 2
        assert [c.run(flask.has_request_context) for c in copies] == [False, False]
        assert [c.run(flask.has_app_context) for c in copies] == [False, False]
        del exchange
        if kind != "error":
            # (An error's traceback holds the frames that held the request,
            # which hold the error: that cycle is the collector's.)
            assert seen[0]() is None  # the copies are still held here
    finally:
        gc.enable()


@pytest.mark.parametrize("body", ["iterator", "async generator"])
def test_a_streamed_body_ends_with_a_send_outside_the_request(app, body):
    """As above, for a streamed body: the request stays current until its
    teardown, after the last chunk, so the body's last message (where
    uvicorn arms its keep-alive timer) is sent from a context of its own."""
    import contextvars
    import gc
    import weakref

    seen: list[t.Any] = []

    async def chunks() -> t.AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    @app.route("/")
    async def index() -> t.Any:
        seen.append(weakref.ref(flask.request._get_current_object()))  # type: ignore[attr-defined]
        return flask.Response(iter([b"a", b"b"]) if body == "iterator" else chunks())

    last: list[contextvars.Context] = []

    class Copying(Exchange):
        async def send(self, message: dict[str, t.Any]) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                last.append(contextvars.copy_context())
            else:
                assert flask.has_request_context()  # still current while streaming
            await super().send(message)

    gc.collect()
    gc.disable()
    try:
        exchange = serve(app, make_scope(), Copying())
        assert exchange.body == b"ab"
        assert len(last) == 1
        assert not last[0].run(flask.has_request_context)
        del exchange
        assert seen[0]() is None
    finally:
        gc.enable()


# -- where code runs --------------------------------------------------------------


class CountingPool:
    """Counts the calls handed to the pool."""

    def __init__(self) -> None:
        self.calls = 0
        self.inner = concurrency.pool()

    def hop(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self.calls += 1
        return self.inner.hop(*args, **kwargs)


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> CountingPool:
    counting = CountingPool()
    monkeypatch.setattr(concurrency, "pool", lambda: counting)
    return counting


def test_all_sync_request_costs_one_pool_hop(app, pool):
    threads: list[int] = []

    @app.before_request
    def before():
        threads.append(threading.get_ident())

    @app.after_request
    def after(response):
        threads.append(threading.get_ident())
        return response

    @app.teardown_request
    def teardown(exc):
        threads.append(threading.get_ident())

    @app.route("/")
    def index():
        threads.append(threading.get_ident())
        return "sync"

    exchange = serve(app, make_scope())
    assert exchange.body == b"sync"
    assert pool.calls == 1
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()


@pytest.mark.needs_shortcut("plain-answer")
def test_async_view_runs_on_the_loop_without_a_hop(app, pool):
    seen: dict[str, t.Any] = {}

    @app.route("/")
    async def index():
        seen["loop"] = asyncio.get_running_loop()
        seen["thread"] = threading.get_ident()
        return {"path": flask.request.path}

    exchange = serve(app, make_scope())
    assert exchange.body == b'{"path":"/"}\n'
    assert seen["thread"] == threading.get_ident()
    assert pool.calls == 0


def test_mixed_hooks_run_where_they_belong(app):
    where: list[tuple[str, bool]] = []
    main = threading.get_ident()

    @app.before_request
    async def async_before():
        where.append(("async_before", threading.get_ident() == main))

    @app.before_request
    def sync_before():
        where.append(("sync_before", threading.get_ident() == main))

    @app.route("/")
    def index():
        where.append(("view", threading.get_ident() == main))
        return "ok"

    @app.after_request
    async def async_after(response):
        where.append(("async_after", threading.get_ident() == main))
        return response

    @app.errorhandler(LookupError)
    async def lookup(e):
        where.append(("handler", threading.get_ident() == main))
        return "handled", 409

    exchange = serve(app, make_scope())
    assert exchange.body == b"ok"
    assert where == [
        ("async_before", True),
        ("sync_before", False),
        ("view", False),
        ("async_after", True),
    ]


def test_async_error_handler_of_a_sync_request_runs_on_the_loop(app):
    where: list[bool] = []
    main = threading.get_ident()

    @app.route("/")
    def index():
        raise LookupError("x")

    @app.errorhandler(LookupError)
    async def lookup(e):
        where.append(threading.get_ident() == main)
        return f"handled {flask.request.path}", 409

    exchange = serve(app, make_scope())
    assert (exchange.status, exchange.body) == (409, b"handled /")
    assert where == [True]


def test_ensure_sync_outside_asgi_keeps_its_meaning(app):
    async def coro(x):
        return x * 2

    assert app.ensure_sync(coro)(21) == 42


# -- the body --------------------------------------------------------------------------


# What an HTTP/1.1 server passes on for a body sent in chunks.
CHUNKED = [(b"transfer-encoding", b"chunked")]


def _echo_app(app: flask.Flask) -> dict[str, t.Any]:
    seen: dict[str, t.Any] = {}

    @app.post("/")
    def echo():
        seen["input"] = flask.request.environ["wsgi.input"]
        data = flask.request.get_data()
        return str(len(data))

    return seen


def test_small_body_stays_in_memory_large_one_is_spooled(app):
    app.config["ASGI_SPOOL_THRESHOLD"] = 1000
    seen = _echo_app(app)
    small = serve(app, make_scope(method="POST", headers=CHUNKED), Exchange([b"x" * 400, b"x" * 400, b""]))
    assert small.body == b"800"
    assert isinstance(seen["input"], io.BytesIO)
    big = serve(app, make_scope(method="POST", headers=CHUNKED), Exchange([b"y" * 600, b"y" * 600, b"y"]))
    assert big.body == b"1201"
    # A real file: it has a descriptor on disk.
    assert not isinstance(seen["input"], io.BytesIO)
    assert os.fstat(seen["input"].fileno()).st_size == 1201


def test_chunked_body_over_the_limit_stops_being_received(app):
    app.config["MAX_CONTENT_LENGTH"] = 250
    _echo_app(app)
    exchange = Exchange([b"z" * 100] * 10)
    serve(app, make_scope(method="POST", headers=CHUNKED), exchange)
    assert exchange.status == 413
    # 300 bytes received: just past the limit, not the whole 1000.
    assert exchange.received == 3


def test_one_message_body_over_the_limit_reads_as_413(app):
    app.config["MAX_CONTENT_LENGTH"] = 250
    _echo_app(app)
    exchange = serve(app, make_scope(method="POST", headers=CHUNKED), Exchange([b"z" * 300]))
    assert exchange.status == 413


def test_declared_length_over_the_limit_is_not_received(app):
    app.config["MAX_CONTENT_LENGTH"] = 250
    _echo_app(app)
    exchange = Exchange([b"z" * 1000])
    serve(app, make_scope(method="POST", headers=[(b"content-length", b"1000")]), exchange)
    assert exchange.status == 413
    assert exchange.received == 0


def test_body_within_the_limit_is_read_as_under_wsgi(app):
    app.config["MAX_CONTENT_LENGTH"] = 250

    @app.post("/")
    def form():
        return flask.request.form["a"]

    body = b"a=hello+world"
    scope = make_scope(
        method="POST",
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    assert serve(app, scope, Exchange([body])).body == b"hello world"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([(b"content-length", b"5 ")], b"0123456789"),
        ([(b"content-length", b"-1")], b"0123456789"),
        ([(b"content-length", b"abc")], b"0123456789"),
        ([(b"transfer-encoding", b"identity")], b"0123456789"),
        ([(b"transfer-encoding", b"chunked")], b"0123456789"),
    ],
)
def test_body_length_is_read_from_the_headers_as_werkzeug_does(app, headers, body):
    """Found by ``make fuzz --transport asgi``: the ASGI path read the whole
    received body where Werkzeug, under WSGI, reads what the headers say
    (lenient ``Content-Length``, no body without a length or chunking).
    The independent answer is Werkzeug's test client over WSGI."""
    _echo_app(app)
    exchange = serve(app, make_scope(method="POST", headers=headers), Exchange([body]))
    # The same request as a WSGI server hands it over: the raw headers in
    # the environ, and a chunked body de-chunked with wsgi.input_terminated.
    from werkzeug.test import EnvironBuilder
    from werkzeug.test import run_wsgi_app

    environ = EnvironBuilder(path="/", method="POST", data=body).get_environ()
    del environ["CONTENT_LENGTH"]
    for name, value in headers:
        key = name.decode().upper().replace("-", "_")
        environ[key if key == "CONTENT_LENGTH" else f"HTTP_{key}"] = value.decode()
    if (b"transfer-encoding", b"chunked") in headers:
        environ["wsgi.input_terminated"] = True
    app_iter, _, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    assert exchange.body == b"".join(app_iter)


def test_request_without_length_or_chunks_has_no_body_to_wait_for(app):
    _echo_app(app)
    exchange = Exchange([b"never read"])
    assert serve(app, make_scope(method="POST"), exchange).body == b"0"
    assert exchange.received == 0


def test_disconnect_while_receiving_sends_nothing(app):
    ran: list[str] = []
    _echo_app(app)
    app.before_request(lambda: ran.append("before"))

    class Gone(Exchange):
        async def receive(self) -> dict[str, t.Any]:
            self.received += 1
            if self.received == 1:
                return {"type": "http.request", "body": b"x", "more_body": True}
            return {"type": "http.disconnect"}

    exchange = serve(app, make_scope(method="POST", headers=CHUNKED), Gone())
    assert exchange.sent == [] and ran == []


# -- responses -------------------------------------------------------------------------


def test_buffered_response_is_one_body_message(app):
    @app.route("/")
    def index():
        return flask.jsonify(a=1)

    exchange = serve(app, make_scope())
    assert [m["type"] for m in exchange.sent] == ["http.response.start", "http.response.body"]
    assert exchange.headers[b"content-length"] == b"8"
    assert exchange.body == b'{"a":1}\n'


def test_async_generator_body_streams_chunk_by_chunk(app):
    @app.route("/")
    async def index():
        async def gen():
            yield "one "
            await asyncio.sleep(0)
            yield b"two"

        return gen(), {"X-Kind": "async"}

    exchange = serve(app, make_scope())
    bodies = [m for m in exchange.sent if m["type"] == "http.response.body"]
    assert [m["body"] for m in bodies] == [b"one ", b"two", b""]
    assert [m["more_body"] for m in bodies] == [True, True, False]
    assert exchange.headers[b"x-kind"] == b"async"


def test_sync_generator_with_stream_with_context(app):
    @app.route("/")
    def index():
        flask.g.name = "g"

        @flask.stream_with_context
        def gen():
            yield flask.request.args["a"]
            yield flask.g.name

        return gen()

    exchange = serve(app, make_scope(query=b"a=x"))
    assert exchange.body == b"xg"
    assert exchange.chunks_sent() == 3


@pytest.mark.parametrize("kind", ["plain", "response", "stream", "async"])
def test_head_sends_no_body(app, kind):
    @app.route("/")
    async def index():
        if kind == "plain":
            return "hello"
        if kind == "response":
            return flask.Response("hello")
        if kind == "stream":
            return flask.Response(iter(["he", "llo"]))

        async def gen():
            yield "hello"

        return gen()

    get = serve(app, make_scope())
    head = serve(app, make_scope(method="HEAD"))
    assert get.body == b"hello"
    assert head.body == b""
    assert head.status == 200
    assert head.headers.get(b"content-length") == get.headers.get(b"content-length")


def test_send_file_streams_the_file(app, tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)

    @app.route("/")
    def index():
        return flask.send_file(path)

    exchange = serve(app, make_scope())
    assert exchange.body == data
    assert exchange.headers[b"content-length"] == b"300000"
    assert exchange.chunks_sent() > 2


def test_teardown_and_call_on_close_run_after_the_last_chunk(app):
    events: list[str] = []

    @app.route("/")
    def index():
        def gen():
            yield "a"
            yield "b"

        response = flask.Response(gen())
        response.call_on_close(lambda: events.append("on_close"))
        return response

    @app.teardown_request
    def teardown(exc):
        events.append("teardown")

    class Recording(Exchange):
        async def send(self, message: dict[str, t.Any]) -> None:
            if message["type"] == "http.response.body":
                events.append(f"chunk {message['body'].decode()!r}")
            await super().send(message)

    serve(app, make_scope(), Recording())
    assert events == ["chunk 'a'", "chunk 'b'", "chunk ''", "on_close", "teardown"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_disconnect_stops_the_stream_and_runs_teardown(app, kind):
    events: list[str] = []

    @app.route("/")
    def index():
        if kind == "sync":

            def gen():
                try:
                    while True:
                        yield "tick"
                finally:
                    events.append("closed")

            return gen()

        async def agen():
            try:
                while True:
                    await asyncio.sleep(0)
                    yield "tick"
            finally:
                events.append("closed")

        return agen()

    @app.teardown_request
    def teardown(exc):
        events.append("teardown")

    exchange = serve(app, make_scope(), Exchange(disconnect_after=5))
    assert 5 <= exchange.chunks_sent() < 10
    assert events == ["closed", "teardown"]


def test_unhandled_error_is_a_500_and_teardown_sees_it(app):
    app.testing = False
    seen: list[t.Any] = []

    @app.route("/")
    async def index():
        raise ValueError("boom")

    @app.teardown_request
    def teardown(exc):
        seen.append(exc)

    exchange = serve(app, make_scope())
    assert exchange.status == 500
    assert isinstance(seen[0], ValueError)


# -- lifespan ------------------------------------------------------------------------------


def _lifespan(app: flask.Flask, *events: str) -> list[dict[str, t.Any]]:
    sent: list[dict[str, t.Any]] = []
    queue = [{"type": f"lifespan.{e}"} for e in events]

    async def receive() -> dict[str, t.Any]:
        return queue.pop(0)

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(app.asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    return sent


def test_lifespan_runs_serving_hooks_in_an_app_context(app):
    ran: list[str] = []

    @app.before_serving
    async def open_pool():
        flask.current_app.extensions["pool"] = "open"
        ran.append("async startup")

    @app.before_serving
    def sync_startup():
        ran.append(f"sync startup {flask.current_app.name}")

    @app.after_serving
    async def close_pool():
        ran.append("shutdown " + flask.current_app.extensions.pop("pool"))

    sent = _lifespan(app, "startup", "shutdown")
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert ran == ["async startup", f"sync startup {app.name}", "shutdown open"]


def test_a_serving_hook_whose_call_is_async_is_awaited(app):
    """An object whose ``__call__`` is a coroutine function is no coroutine
    function to ``inspect``; its coroutine is awaited all the same, in the
    app context (it used to be dropped, with a "never awaited" warning)."""
    ran: list[str] = []

    class Hook:
        def __init__(self, phase: str) -> None:
            self.phase = phase

        async def __call__(self) -> None:
            await asyncio.sleep(0)
            ran.append(f"{self.phase} {flask.current_app.name}")

    app.before_serving(Hook("startup"))
    app.after_serving(Hook("shutdown"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        sent = _lifespan(app, "startup", "shutdown")
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert ran == [f"startup {app.name}", f"shutdown {app.name}"]


def test_lifespan_startup_failure_is_reported(app):
    @app.before_serving
    def broken():
        raise ConnectionError("database is down")

    sent = _lifespan(app, "startup")
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "database is down" in sent[0]["message"]


# -- isolation ---------------------------------------------------------------------------------


def test_a_thousand_concurrent_requests_see_only_their_own_state(app):
    # Every async view sets its state, then waits until all 500 have: they
    # are all in flight at once, whatever the machine's speed.
    in_flight = []
    all_set: list[asyncio.Event] = []

    @app.route("/sync/<int:n>")
    def sync_view(n):
        flask.g.n = n
        flask.session["n"] = n
        return f"{n} {flask.g.n} {flask.request.view_args['n']} {flask.session['n']}"

    @app.route("/async/<int:n>")
    async def async_view(n):
        flask.g.n = n
        flask.session["n"] = n
        in_flight.append(n)
        if len(in_flight) == 500:
            all_set[0].set()
        await asyncio.wait_for(all_set[0].wait(), timeout=60)  # only bounds a hang
        return f"{n} {flask.g.n} {flask.request.view_args['n']} {flask.session['n']}"

    async def main() -> list[Exchange]:
        all_set.append(asyncio.Event())  # made on the loop that runs the views
        exchanges = []
        calls = []
        for n in range(1000):
            kind = "async" if n % 2 else "sync"
            exchange = Exchange()
            exchanges.append(exchange)
            calls.append(app.asgi_app(make_scope(f"/{kind}/{n}"), exchange.receive, exchange.send))
        await asyncio.gather(*calls)
        return exchanges

    exchanges = asyncio.run(main())
    for n, exchange in enumerate(exchanges):
        assert exchange.body == f"{n} {n} {n} {n}".encode()
        assert b"set-cookie" in exchange.headers


# -- the test client ---------------------------------------------------------------------------


def test_test_client_switch_and_environment_variable(app, monkeypatch):
    @app.route("/")
    def index():
        return "asgi" if "asgi.scope" in flask.request.environ else "wsgi"

    assert app.test_client().get("/").data == b"wsgi"
    assert app.test_client(asgi=True).get("/").data == b"asgi"
    monkeypatch.setenv("FLASK_TEST_ASGI", "1")
    assert app.test_client().get("/").data == b"asgi"
    assert app.test_client(asgi=False).get("/").data == b"wsgi"


def test_asgi_middleware_wraps_the_entry_point(app):
    @app.route("/")
    def index():
        return "inner"

    inner = app.asgi_app

    async def middleware(scope, receive, send):
        async def tagged(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-mw", b"1")]
            await send(message)

        await inner(scope, receive, tagged)

    app.asgi_app = middleware  # type: ignore[method-assign]
    response = app.test_client(asgi=True).get("/")
    assert response.headers["X-MW"] == "1" and response.data == b"inner"


def test_overridden_pipeline_methods_are_served_through_them(app, pool):
    calls: list[str] = []

    class Custom(flask.Flask):
        def full_dispatch_request(self):
            calls.append("full_dispatch_request")
            return super().full_dispatch_request()

    custom = Custom(__name__)

    @custom.route("/")
    async def index():
        return "async view, custom dispatch"

    exchange = serve(custom, make_scope())
    assert exchange.body == b"async view, custom dispatch"
    assert calls == ["full_dispatch_request"]
    assert pool.calls == 1


# -- shortcuts of the async path ---------------------------------------------------


def _werkzeug_answer(app: flask.Flask, path: str) -> tuple[int, bytes]:
    from werkzeug.test import Client

    response = Client(app.wsgi_app).get(path)
    return response.status_code, response.get_data()


@pytest.mark.parametrize("hooked", [False, True])
def test_async_blueprint_view_and_hooks_cost_no_pool_hop(app, pool, hooked):
    """An async view of a blueprint, with or without an async before hook,
    runs on the loop without a pool hop and answers as Werkzeug's client
    over WSGI."""
    bp = flask.Blueprint("bp", __name__)

    @bp.route("/x/<int:n>")
    async def view(n: int) -> dict[str, t.Any]:
        return {"n": n, "hooked": flask.g.get("hooked", False)}

    if hooked:

        @bp.before_request
        async def mark() -> None:
            flask.g.hooked = True

    app.register_blueprint(bp)
    exchange = serve(app, make_scope("/x/7"))
    assert pool.calls == 0
    assert (exchange.status, exchange.body) == _werkzeug_answer(app, "/x/7")
    assert exchange.body == (b'{"hooked":true,"n":7}\n' if hooked else b'{"hooked":false,"n":7}\n')


def test_hook_added_while_serving_is_seen_by_the_next_request(app):
    """The shortcut reads the live registries: a hook an extension adds
    after the first request runs on the next one."""

    @app.route("/")
    async def index() -> str:
        return flask.g.get("seen", "none")

    assert serve(app, make_scope()).body == b"none"
    # Extensions append to the registry directly (no setup-method check).
    app.before_request_funcs.setdefault(None, []).append(lambda: setattr(flask.g, "seen", "hook"))
    assert serve(app, make_scope()).body == b"hook"


@pytest.mark.parametrize(
    ("path", "method"),
    [("/ok", "GET"), ("/abort", "GET"), ("/handled", "GET"), ("/ok", "OPTIONS"), ("/ok", "HEAD"), ("/nope", "GET")],
)
def test_async_view_and_handlers_answer_as_wsgi_without_a_hop(app, pool, path, method):
    """An async view, its async error handler, an automatic OPTIONS and an
    unmatched URL run on the loop without a pool hop; the answer (status,
    body, headers) is Werkzeug's client's over WSGI."""
    from werkzeug.test import Client

    class Teapot(Exception):
        pass

    @app.errorhandler(Teapot)
    async def teapot(e: Exception) -> tuple[str, int]:
        return "short and stout", 418

    @app.route("/ok")
    async def ok() -> str:
        return "fine"

    @app.route("/abort")
    async def aborted() -> str:
        flask.abort(404)

    @app.route("/handled")
    async def handled() -> str:
        raise Teapot()

    exchange = serve(app, make_scope(path, method=method))
    assert pool.calls == 0
    expected = Client(app.wsgi_app).open(path, method=method)
    assert exchange.status == expected.status_code
    assert exchange.body == expected.get_data()
    assert exchange.headers[b"content-type"] == expected.headers["Content-Type"].encode()


def test_a_sync_signal_receiver_runs_in_the_pool(app, pool):
    started: list[tuple[str, bool]] = []
    main = threading.get_ident()

    @app.route("/")
    async def index() -> str:
        return "hi"

    def receiver(sender: t.Any, **kwargs: t.Any) -> None:
        started.append((flask.request.path, threading.get_ident() == main))

    with flask.request_started.connected_to(receiver, app):
        assert serve(app, make_scope()).body == b"hi"
    assert started == [("/", False)] and pool.calls == 1


@pytest.mark.parametrize("registered", [False, True])
def test_nothing_to_tear_down_pops_without_the_teardown_calls(app, monkeypatch, registered):
    """With no teardown function or receiver registered, the request's
    contexts are popped without RequestContext.pop() and its calls into
    the teardown registries; the request is still closed (its form files
    too) and both contexts are gone afterwards. With a teardown function
    registered it runs and sees the request, as under WSGI."""
    from flask.ctx import RequestContext

    pops: list[int] = []
    real_pop = RequestContext.pop

    def spy(self: RequestContext, exc: t.Any = None) -> None:
        pops.append(1)
        real_pop(self, exc)

    monkeypatch.setattr(RequestContext, "pop", spy)
    closed: list[bool] = []
    torn: list[str] = []

    @app.route("/", methods=["POST"])
    async def index() -> str:
        upload = flask.request.files["f"]
        real_close = upload.close

        def close() -> None:
            closed.append(True)
            real_close()

        upload.close = close  # type: ignore[method-assign]
        return "ok"

    if registered:

        @app.teardown_request
        def down(exc: BaseException | None) -> None:
            torn.append(flask.request.path)

    builder = EnvironBuilder(method="POST", data={"f": (io.BytesIO(b"data"), "f.txt")})
    environ = builder.get_environ()
    body = environ["wsgi.input"].read()
    headers = [(b"content-type", environ["CONTENT_TYPE"].encode()), (b"content-length", str(len(body)).encode())]
    exchange = serve(app, make_scope(method="POST", headers=headers), Exchange([body]))
    assert exchange.body == b"ok"
    assert closed == [True]
    assert torn == (["/"] if registered else [])
    assert not pops
    assert not flask.has_request_context() and not flask.has_app_context()


@pytest.mark.parametrize("declared", [b"5 ", b"", b" 3", b"x", b"-1"])
def test_odd_declared_length_reads_the_body_werkzeug_reads(app, declared):
    """A Content-Length Werkzeug reads leniently ("5 " is 5, an invalid one
    0) gives the app the same bytes over ASGI as Werkzeug's own request
    over WSGI for that environ (found by the differential fuzzer)."""

    @app.post("/")
    def data() -> bytes:
        return flask.request.get_data()

    body = b"0123456789"
    environ = EnvironBuilder(method="POST", data=body).get_environ()
    environ["CONTENT_LENGTH"] = declared.decode()
    expected = WerkzeugRequest(environ).get_data()
    scope = make_scope(method="POST", headers=[(b"content-length", declared)])
    assert serve(app, scope, Exchange([body])).body == expected
