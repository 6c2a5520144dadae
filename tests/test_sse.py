"""Server-Sent Events (``flask.EventStream``): framing checked by an
independent parser that follows the WHATWG algorithm ("interpreting an
event stream", HTML standard 9.2.6), headers, ``Last-Event-ID``,
keep-alives on a fake clock, and disconnects on real servers."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import socket
import threading
import typing as t

import pytest

import flask
from flask.json.provider import DefaultJSONProvider
from flask.sse import KEEP_ALIVE
from flask.sse import Clock
from flask.sse import encode_event

from waits import HangBound
from waits import wait_until

BOUND = 10  # seconds; only bounds a hang


def reached(event: threading.Event, what: str) -> None:
    """Wait for ``event``; the bound only stops a hang."""
    if not event.wait(BOUND):
        raise HangBound(f"hang bound of {BOUND} s reached waiting for {what}")


# -- an independent parser: the standard's algorithm, step by step -----------


def parse_stream(raw: bytes) -> dict[str, t.Any]:
    """Events as an EventSource would dispatch them: a list of
    ``(type, data, last_event_id)``, the reconnection time, and the
    number of comment lines."""
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    events: list[tuple[str, str, str]] = []
    data = event_type = last_id_buffer = last_id = ""
    retry: int | None = None
    comments = 0
    lines = re.split(r"\r\n|\n|\r", text)
    # The last piece has no line ending yet: it is not a line.
    for line in lines[:-1]:
        if line == "":
            last_id = last_id_buffer
            if data == "":
                event_type = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append((event_type or "message", data, last_id))
            data = event_type = ""
            continue
        if line.startswith(":"):
            comments += 1
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\0" not in value:
                last_id_buffer = value
        elif field == "retry":
            if value and all(c in "0123456789" for c in value):
                retry = int(value)
    return {"events": events, "retry": retry, "comments": comments}


def test_parser_on_the_standards_examples():
    # Checks the checker against the examples the standard gives.
    assert parse_stream(b"data: YHOO\ndata: +2\ndata: 10\n\n")["events"] == [
        ("message", "YHOO\n+2\n10", "")
    ]
    parsed = parse_stream(
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
    )
    assert parsed["events"] == [
        ("message", "first event", "1"),
        ("message", "second event", ""),
        ("message", " third event", ""),
    ]
    assert parsed["comments"] == 1
    assert parse_stream(b"data\n\ndata\ndata\n\ndata:")["events"] == [
        ("message", "", ""),
        ("message", "\n", ""),
    ]
    assert parse_stream(b"data:test\n\ndata: test\n\n")["events"] == [
        ("message", "test", ""),
        ("message", "test", ""),
    ]


# -- framing -----------------------------------------------------------------


def test_multi_line_data_is_one_data_line_per_line():
    assert encode_event("YHOO\n+2\n10") == b"data: YHOO\ndata: +2\ndata: 10\n\n"


@pytest.mark.parametrize(
    "data",
    ["first event", " third event", "", "\n", "a\r\nb\rc\nd", "tr\u00e9s \u2603", "x\n\n\ny", "  "],
)
def test_data_round_trips_through_the_standards_parser(data):
    expected = re.sub(r"\r\n|\r", "\n", data)
    assert parse_stream(encode_event(data))["events"] == [("message", expected, "")]


def test_fields_round_trip():
    raw = encode_event(flask.ServerSentEvent("hi", event="update", id=7, retry=2500))
    parsed = parse_stream(raw)
    assert parsed["events"] == [("update", "hi", "7")]
    assert parsed["retry"] == 2500
    # An empty id resets the client's last event id, as in the standard's example.
    raw = encode_event(flask.ServerSentEvent("a", id="1")) + encode_event(flask.ServerSentEvent("b", id=""))
    assert [e[2] for e in parse_stream(raw)["events"]] == ["1", ""]


@pytest.mark.parametrize(
    "kwargs",
    [{"event": "a\nb"}, {"id": "1\r2"}, {"id": "nul\0"}, {"retry": -1}, {"retry": 1.5}],
)
def test_fields_that_would_break_the_framing_are_refused(kwargs):
    with pytest.raises(ValueError):
        flask.ServerSentEvent("x", **kwargs)


def test_dicts_use_the_apps_json_provider():
    class Provider(DefaultJSONProvider):
        sort_keys = False

        @staticmethod
        def default(o):
            if isinstance(o, complex):
                return [o.real, o.imag]
            return DefaultJSONProvider.default(o)

    app = flask.Flask(__name__)
    app.json = Provider(app)

    @app.route("/")
    def index():
        return flask.EventStream(iter([{"z": 1, "a": 2j}, [1, "two"]]))

    parsed = parse_stream(app.test_client().get("/").data)
    assert [json.loads(e[1]) for e in parsed["events"]] == [{"z": 1, "a": [0.0, 2.0]}, [1, "two"]]
    assert parsed["events"][0][1].startswith('{"z"')  # the provider's order, not sorted


# -- the response ---------------------------------------------------------------


@pytest.fixture(params=["wsgi", "asgi"])
def served(request, monkeypatch):
    """An app whose test client goes through WSGI, or through app.asgi_app
    (the test client's documented FLASK_TEST_ASGI switch)."""
    if request.param == "asgi":
        monkeypatch.setenv("FLASK_TEST_ASGI", "1")
    else:
        monkeypatch.delenv("FLASK_TEST_ASGI", raising=False)
    app = flask.Flask(__name__)
    app.testing = True
    return app


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_headers_and_events(served, kind):
    app = served

    @app.route("/")
    def index():
        items = ["one", flask.ServerSentEvent({"n": 2}, event="two", id="2")]
        if kind == "sync":
            return flask.EventStream(iter(items))

        async def gen():
            for item in items:
                yield item

        return flask.EventStream(gen())

    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in response.headers
    parsed = parse_stream(response.data)
    assert parsed["events"] == [("message", "one", ""), ("two", '{"n": 2}', "2")]
    assert response.data.startswith(KEEP_ALIVE)  # headers go out at once


def test_last_event_id_resumes(served):
    app = served
    log = [flask.ServerSentEvent(f"post {n}", id=n) for n in range(1, 6)]

    @app.route("/")
    def index():
        after = int(flask.request.last_event_id or 0)
        return flask.EventStream(e for e in log if int(e.id) > after)

    client = app.test_client()
    assert [e[1] for e in parse_stream(client.get("/").data)["events"]] == [f"post {n}" for n in range(1, 6)]
    resumed = parse_stream(client.get("/", headers={"Last-Event-ID": "3"}).data)["events"]
    assert resumed == [("message", "post 4", "4"), ("message", "post 5", "5")]
    with app.test_request_context():
        assert flask.request.last_event_id is None


def test_interval_must_be_positive():
    with pytest.raises(ValueError):
        flask.EventStream(iter(()), interval=0)


class _FakeTimer:
    def __init__(self, when: float, callback: t.Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(Clock):
    """Time passes only when the test says. Under WSGI, ``tick()`` makes
    the next wait for an event time out; over ASGI, ``advance(seconds)``
    moves the loop's time on and runs the timers then due."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []
        self._ticks = 0
        self.now = 1000.0
        self.timers: list[_FakeTimer] = []

    def tick(self) -> None:
        self._ticks += 1

    def wait(self, ready: threading.Event, timeout: float) -> bool:
        self.timeouts.append(timeout)
        if self._ticks:
            self._ticks -= 1
            return False
        reached(ready, "the stream's next event")
        return True

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: t.Callable[[], None]) -> _FakeTimer:
        timer = _FakeTimer(when, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [x for x in self.timers if not x.cancelled and x.when <= self.now]:
            for timer in due:
                self.timers.remove(timer)
                timer.callback()

    def armed(self) -> list[float]:
        return sorted(x.when for x in self.timers if not x.cancelled)


def test_keep_alive_on_a_fake_clock_wsgi():
    app = flask.Flask(__name__)
    clock = FakeClock()
    gate = threading.Event()
    finished = threading.Event()
    torn_down = threading.Event()
    app.teardown_request(lambda exc: torn_down.set())

    @app.route("/")
    def index():
        def gen():
            try:
                yield "first"
                gate.wait(BOUND)
                yield "second"
                gate.wait(BOUND)  # stays here until the response is closed
                yield "never sent"
            finally:
                finished.set()

        return flask.EventStream(gen(), interval=42.0, clock=clock)

    response = app.test_client(asgi=False).get("/", buffered=False)
    chunks = iter(response.response)
    assert next(chunks) == KEEP_ALIVE
    assert next(chunks) == b"data: first\n\n"
    clock.tick()
    clock.tick()
    assert next(chunks) == KEEP_ALIVE  # the generator still waits on the gate
    assert next(chunks) == KEEP_ALIVE
    assert not torn_down.is_set()
    gate.set()
    assert next(chunks) == b"data: second\n\n"
    assert clock.timeouts == [42.0, 42.0, 42.0, 42.0]
    response.close()
    reached(finished, "the generator's finally")
    reached(torn_down, "teardown")


def _asgi_peer(
    disconnect: asyncio.Event, sent: asyncio.Queue[dict[str, t.Any]]
) -> tuple[t.Callable[[], t.Awaitable[dict[str, t.Any]]], t.Callable[[], t.Awaitable[bytes]]]:
    """An ASGI server's side of one stream: ``receive`` reports a disconnect
    once ``disconnect`` is set; ``body()`` is the next body message sent."""

    async def receive() -> dict[str, t.Any]:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def body() -> bytes:
        while True:
            message = await asyncio.wait_for(sent.get(), BOUND)
            if message["type"] == "http.response.body":
                return t.cast(bytes, message["body"])

    return receive, body


def test_keep_alive_on_a_fake_clock_asgi():
    app = flask.Flask(__name__)
    clock = FakeClock()
    finished = threading.Event()
    torn_down = []
    app.teardown_request(lambda exc: torn_down.append(exc))

    async def scenario() -> None:
        events: asyncio.Queue[str] = asyncio.Queue()
        disconnect = asyncio.Event()
        sent: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()

        @app.route("/")
        async def index():
            async def gen():
                try:
                    while True:
                        yield await events.get()
                finally:
                    finished.set()

            return flask.EventStream(gen(), interval=7.5, clock=clock)

        receive, body = _asgi_peer(disconnect, sent)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
            "root_path": "", "query_string": b"", "headers": [(b"host", b"x")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }
        task = asyncio.ensure_future(app.asgi_app(scope, receive, sent.put))
        assert await body() == KEEP_ALIVE  # when the stream opens, at 1000
        assert clock.armed() == [1007.5]
        clock.advance(7.4)
        await events.put("one")
        assert await body() == b"data: one\n\n"  # no keep-alive before it
        clock.advance(0.1)  # 1007.5: a frame went out at 1007.4, not due yet
        assert clock.armed() == [1014.9]
        clock.advance(7.4)  # 1014.9: 7.5 s without a frame
        assert await body() == KEEP_ALIVE
        assert clock.armed() == [1022.4]
        await events.put("two")
        assert await body() == b"data: two\n\n"
        clock.advance(7.5)  # 1022.4: "two" went out at 1014.9
        assert await body() == KEEP_ALIVE
        assert len(clock.armed()) == 1  # one timer per stream, whatever the events
        assert clock.timeouts == []  # the WSGI wait is not used on the loop
        # The generator waits for an event that never comes; the disconnect
        # stops it at once, not at the next keep-alive.
        disconnect.set()
        await asyncio.wait_for(task, BOUND)

    asyncio.run(scenario())
    assert finished.is_set()
    assert torn_down == [None]


def test_keep_alives_on_the_loops_own_clock():
    # The default clock: the event loop's time and timers. A stream with no
    # events sends keep-alives on its own; how soon is not checked (the
    # bound only stops a hang), only that they come, and after an event.
    app = flask.Flask(__name__)

    async def scenario() -> list[bytes]:
        events: asyncio.Queue[str] = asyncio.Queue()
        sent: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
        disconnect = asyncio.Event()

        @app.route("/")
        async def index():
            async def gen():
                while True:
                    yield await events.get()

            return flask.EventStream(gen(), interval=0.01)

        receive, body = _asgi_peer(disconnect, sent)

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "http_version": "1.1"}
        task = asyncio.ensure_future(app.asgi_app(scope, receive, sent.put))
        frames = [await body(), await body()]
        await events.put("hello")
        while (frame := await body()) == KEEP_ALIVE:
            pass  # a keep-alive may have gone out before the event
        frames += [frame, await body()]
        disconnect.set()
        await asyncio.wait_for(task, BOUND)
        return frames

    assert asyncio.run(scenario()) == [KEEP_ALIVE, KEEP_ALIVE, b"data: hello\n\n", KEEP_ALIVE]


# -- real servers, real disconnects ---------------------------------------------


def _sse_app(kind: str) -> tuple[flask.Flask, dict[str, threading.Event]]:
    app = flask.Flask(__name__)
    seen = {"finally": threading.Event(), "teardown": threading.Event(), "teardown_app": threading.Event()}

    @app.teardown_request
    def down(exc):
        assert flask.g.opened  # the stream's g, still there
        seen["teardown"].set()

    @app.teardown_appcontext
    def app_down(exc):
        seen["teardown_app"].set()

    @app.route("/events")
    def events():
        flask.g.opened = True
        if kind == "sync":

            def gen():
                try:
                    yield "one"
                    yield "two"
                    idle = threading.Event()
                    while True:
                        # Waits for data that never comes, yielding None now
                        # and then so the stream can stop it.
                        idle.wait(0.05)
                        yield None
                finally:
                    seen["finally"].set()

            # A short keep-alive, so the disconnect shows soon (bounded below).
            return flask.EventStream(gen(), interval=0.05)

        async def agen():
            try:
                yield "one"
                yield "two"
                await asyncio.Event().wait()  # forever
            finally:
                seen["finally"].set()

        # An hour: only the disconnect itself can stop this generator.
        return flask.EventStream(agen(), interval=3600)

    return app, seen


def _read_two_events_and_close(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as s:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        received = b""
        while b"data: two\n\n" not in received:
            data = s.recv(4096)
            assert data, "connection closed early"
            received += data
        assert b"text/event-stream" in received
    # Closed normally (FIN), as a browser closing an EventSource does.


def test_disconnect_runs_finally_and_teardown_on_werkzeug_server():
    from werkzeug.serving import make_server

    app, seen = _sse_app("sync")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _read_two_events_and_close(server.port)
        reached(seen["finally"], "the generator's finally")
        reached(seen["teardown"], "teardown_request")
        reached(seen["teardown_app"], "teardown_appcontext")
    finally:
        server.shutdown()
        thread.join(BOUND)


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")
@pytest.mark.parametrize("kind", ["async", "sync"])
def test_disconnect_runs_finally_and_teardown_on_uvicorn(kind):
    import uvicorn

    app, seen = _sse_app(kind)
    server = uvicorn.Server(uvicorn.Config(app.asgi_app, lifespan="off", log_level="warning"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, hang_bound=BOUND, what="uvicorn to start")
        _read_two_events_and_close(sock.getsockname()[1])
        reached(seen["finally"], "the generator's finally")
        reached(seen["teardown"], "teardown_request")
        reached(seen["teardown_app"], "teardown_appcontext")
    finally:
        server.should_exit = True
        thread.join(BOUND)
        sock.close()


def test_head_request_tears_down_without_running_the_generator(served):
    app = served
    ran, torn_down = [], []
    app.teardown_request(lambda exc: torn_down.append(exc))

    @app.route("/", methods=["GET"])
    def index():
        def gen():
            ran.append(True)
            yield "x"

        return flask.EventStream(gen())

    response = app.test_client().head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    response.close()  # as a WSGI server does
    assert ran == [] and torn_down == [None]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_generator_error_reaches_teardown(served, kind):
    app = served
    app.testing = False  # the error is logged, not raised into the test
    torn_down = []
    app.teardown_request(lambda exc: torn_down.append(type(exc).__name__))

    @app.route("/")
    def index():
        if kind == "sync":

            def gen():
                yield "one"
                raise LookupError("gone")

            return flask.EventStream(gen())

        async def agen():
            yield "one"
            raise LookupError("gone")

        return flask.EventStream(agen())

    client = app.test_client()
    with pytest.raises(LookupError):
        client.get("/").data  # noqa: B018
    # Over ASGI the error leaves the stream after the request's own
    # teardown was scheduled, which sees the view's outcome (no error).
    assert torn_down == ["LookupError"] if "FLASK_TEST_ASGI" not in os.environ else ["NoneType"]


def test_response_dropped_unsent_still_tears_down():
    app = flask.Flask(__name__)
    torn_down = []
    app.teardown_request(lambda exc: torn_down.append(exc))

    @app.route("/")
    def index():
        return flask.EventStream(iter(["never"]))

    @app.after_request
    def replace(response):
        return flask.Response("replaced")

    assert app.test_client().get("/").data == b"replaced"
    import gc

    gc.collect()
    assert torn_down == [None]
