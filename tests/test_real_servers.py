"""Streams and real disconnects on every server of the matrix
(``tests/servers.py``): gunicorn sync and gthread, uWSGI, waitress,
Werkzeug's threaded server, uvicorn, hypercorn and granian.

A raw-socket client reads the start of a stream and closes its socket, as
a browser tab that goes away does. The app notes what ran (a generator's
``finally``, ``teardown_request``, a "database session" closed by
``teardown_appcontext``) in a file, one ``O_APPEND`` write per line, which
the test waits for; waits are bounded only to stop a hang.

What each server does with a disconnect is in docs/streaming.md's server
table; :data:`NOTICED_BY` is the same table, asserted here.
"""

from __future__ import annotations

import collections
import json
import socket
import textwrap
from pathlib import Path

import pytest
from servers import SERVERS, WSGI, Served, need, serve
from waits import wait_until

NEXT = "at the next keep-alive"
AT_ONCE = "at once (`http.disconnect`)"
#: How each server comes to stop an abandoned event stream, as
#: docs/streaming.md's table says (waitress as the matrix runs it, with
#: channel_request_lookahead).
NOTICED_BY = {
    "gunicorn-sync": NEXT,
    "gunicorn-gthread": NEXT,
    "uwsgi": NEXT,
    "waitress": NEXT,
    "werkzeug": NEXT,
    "uvicorn": AT_ONCE,
    "hypercorn": AT_ONCE,
    "granian": AT_ONCE,
}

# Under WSGI a short keep-alive interval, so a closed stream is noticed
# soon; over ASGI one far longer than any wait here, so only the server's
# disconnect report can be what stopped the generator.
WSGI_INTERVAL = 0.5
ASGI_INTERVAL = 3600
HANG_BOUND = 30
CHUNK = 16384

APP = textwrap.dedent(
    """
    import asyncio, os, threading
    import flask
    from flask import EventStream, ServerSentEvent
    from flask.sse import Clock

    LOG = {log!r}
    TICKS = {ticks!r}
    CHUNK = "x" * {chunk}

    def note(line):
        # One write per line on an O_APPEND file: lines from threads and
        # worker processes never interleave.
        fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (line + "\\n").encode())
        finally:
            os.close(fd)

    class Ticks(Clock):
        # A keep-alive interval passes only when the test appends a tick to
        # the stream's file; each wait is noted, so the test knows when the
        # stream went back to waiting (its keep-alive was written).

        def __init__(self, rid):
            self.rid, self.ticks = rid, 0

        def wait(self, ready, timeout):
            note(f"waiting {{self.rid}} {{self.ticks}}")
            path = os.path.join(TICKS, self.rid)
            while not ready.wait(0.02):  # a poll of the file, not a deadline
                if os.path.exists(path) and os.path.getsize(path) > self.ticks:
                    self.ticks += 1
                    note(f"ticked {{self.rid}} {{self.ticks}}")
                    return False
            return True

    app = flask.Flask(__name__)
    asgi = app.asgi_app

    @app.teardown_request
    def request_done(exc):
        note("teardown_request " + flask.request.args.get("id", "-"))

    @app.teardown_appcontext
    def close_db(exc):
        db = flask.g.pop("db", None)
        if db is not None:
            note("closed " + db)

    @app.get("/sse")
    def sse():
        rid = flask.request.args["id"]

        def events():
            try:
                yield ServerSentEvent("first", id="1")
                nothing = threading.Event()
                while True:  # waits for data that never comes
                    nothing.wait(0.1)
                    yield None
            finally:
                note("finally " + rid)

        clock = Ticks(rid) if "ticks" in flask.request.args else None
        return EventStream(events(), interval=float(flask.request.args["interval"]), clock=clock)

    @app.get("/asse")
    async def asse():
        rid = flask.request.args["id"]

        async def events():
            try:
                yield ServerSentEvent("first", id="1")
                await asyncio.Event().wait()  # data that never comes
            finally:
                note("finally " + rid)

        return EventStream(events(), interval=float(flask.request.args["interval"]))

    @app.get("/stream")
    def stream():
        rid = flask.request.args["id"]

        @flask.stream_with_context
        def body():
            flask.g.db = "db-" + rid
            try:
                while True:  # a client that stayed would read forever
                    yield CHUNK
            finally:
                note("stream_finally " + rid)

        return body()

    @app.get("/check")
    def check():
        return {{"stale_g": sorted(flask.g), "path": flask.request.path}}
    """
)


def _log(tmp_path: Path) -> Path:
    return tmp_path / "events.log"


def _lines(tmp_path: Path) -> list[str]:
    try:
        return _log(tmp_path).read_text().splitlines()
    except FileNotFoundError:
        return []


def _start(tmp_path: Path) -> None:
    (tmp_path / "ticks").mkdir()
    (tmp_path / "streamapp.py").write_text(
        APP.format(log=str(_log(tmp_path)), ticks=str(tmp_path / "ticks"), chunk=CHUNK)
    )


def _open_stream(served: Served, path: str) -> socket.socket:
    sock = served.connect()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def _read_until(sock: socket.socket, done: "collections.abc.Callable[[bytes], bool]") -> bytes:
    data = b""
    while not done(data):
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the stream early: {data[:500]!r}"
        data += chunk
    return data


def _wait_for(tmp_path: Path, served: Served, *lines: str) -> None:
    wait_until(
        lambda: all(line in _lines(tmp_path) for line in lines),
        hang_bound=HANG_BOUND,
        what=f"{lines} in the app's notes under {served.kind.name} "
        f"(notes: {_lines(tmp_path)}; log: {served.log})",
    )


def test_event_stream_stops_when_the_client_goes_away(server_name: str, tmp_path: Path) -> None:
    _start(tmp_path)
    with serve(server_name, "streamapp", tmp_path) as served:
        path, interval = ("/asse", ASGI_INTERVAL) if served.asgi else ("/sse", WSGI_INTERVAL)
        for rid in ("a", "b"):
            sock = _open_stream(served, f"{path}?id={rid}&interval={interval}")
            try:
                head = _read_until(sock, lambda d: b"data: first" in d)
            finally:
                sock.close()
            assert b"text/event-stream" in head
            assert b": keep-alive" in head
            # Over ASGI the interval outlasts the hang bound: only the
            # server's disconnect report can stop the generator in time.
            _wait_for(tmp_path, served, f"finally {rid}", f"teardown_request {rid}")
        status, body = served.request("GET", "/check?id=after")
        assert status == 200
        assert json.loads(body)["stale_g"] == []
    counts = collections.Counter(_lines(tmp_path))
    for rid in ("a", "b", "after"):
        assert counts[f"teardown_request {rid}"] == 1, counts
    assert counts["finally a"] == counts["finally b"] == 1


#: Keep-alive intervals after the client closed until the stream stops:
#: one, as docs/streaming.md's table says. Waitress sees the close on a
#: thread of its own, which the test cannot wait for, so there the count
#: is only bounded (one in every run seen).
INTERVALS = {"gunicorn-sync": 1, "gunicorn-gthread": 1, "werkzeug": 1, "uwsgi": 1, "waitress": None}


@pytest.mark.parametrize("name", WSGI)
def test_event_stream_stops_after_the_documented_keep_alives(name: str, tmp_path: Path) -> None:
    """Under WSGI a closed stream is noticed at a keep-alive. The intervals
    pass only when the test says (a test clock), so the count is exact."""
    need(name)
    _start(tmp_path)
    with serve(name, "streamapp", tmp_path) as served:
        sock = _open_stream(served, "/sse?id=t&interval=3600&ticks=1")
        try:
            _read_until(sock, lambda d: b"data: first" in d)
            _wait_for(tmp_path, served, "waiting t 0")
        finally:
            sock.close()
        ticks = 0
        while "finally t" not in _lines(tmp_path):
            assert ticks < 50, f"{name} never noticed the closed stream: {_lines(tmp_path)}"
            ticks += 1
            _tick(tmp_path, "t")
            # Either the stream stopped, or it wrote a keep-alive and waits again.
            wait_until(
                lambda: {"finally t", f"waiting t {ticks}"} & set(_lines(tmp_path)),
                hang_bound=HANG_BOUND, what=f"the stream to take tick {ticks} under {name}",
            )
        _wait_for(tmp_path, served, "teardown_request t")
    expected = INTERVALS[name]
    assert ticks == expected if expected is not None else 1 <= ticks <= 3
    assert collections.Counter(_lines(tmp_path))["teardown_request t"] == 1


#: docs/streaming.md: "a stream holds the worker" under gunicorn's sync
#: workers; the others serve other requests beside an open stream.
HOLDS_THE_WORKER = {"gunicorn-sync"}


def _tick(tmp_path: Path, rid: str) -> None:
    with (tmp_path / "ticks" / rid).open("a") as f:
        f.write(".")


@pytest.mark.parametrize("name", WSGI)
def test_other_requests_beside_an_open_stream(name: str, tmp_path: Path) -> None:
    need(name)
    _start(tmp_path)
    with serve(name, "streamapp", tmp_path) as served:
        stream = _open_stream(served, "/sse?id=h&interval=3600&ticks=1")
        other = None
        try:
            _read_until(stream, lambda d: b"data: first" in d)
            _wait_for(tmp_path, served, "waiting h 0")
            other = _open_stream(served, "/check?id=beside")
            if name in HOLDS_THE_WORKER:
                # Only the stream's end frees the worker for the other request.
                stream.close()
                _tick(tmp_path, "h")
                assert _read_until(other, lambda d: b"/check" in d).startswith(b"HTTP/1.1 200")
                notes = _lines(tmp_path)
                assert notes.index("ticked h 1") < notes.index("teardown_request beside")
            else:
                assert _read_until(other, lambda d: b"/check" in d).startswith(b"HTTP/1.1 200")
                # Answered while the stream is still open (it ends only at a tick).
                assert "finally h" not in _lines(tmp_path)
                stream.close()
                _tick(tmp_path, "h")
                _wait_for(tmp_path, served, "finally h", "teardown_request h")
        finally:
            stream.close()
            if other is not None:
                other.close()


def test_abandoned_stream_tears_down_once(server_name: str, tmp_path: Path) -> None:
    _start(tmp_path)
    rids = ["s1", "s2", "s3"]
    with serve(server_name, "streamapp", tmp_path) as served:
        for rid in rids:
            sock = _open_stream(served, f"/stream?id={rid}")
            try:
                # Two chunks' worth of body, then away mid-stream.
                _read_until(sock, lambda d: d.count(b"x") >= 2 * CHUNK)
            finally:
                sock.close()
            _wait_for(tmp_path, served, f"stream_finally {rid}", f"closed db-{rid}",
                      f"teardown_request {rid}")
            status, body = served.request("GET", f"/check?id=after-{rid}")
            assert status == 200
            # A fresh context: nothing the stream put in g is left over.
            assert json.loads(body) == {"stale_g": [], "path": "/check"}
    # Counted after the server stopped: nothing tore down a second time.
    counts = collections.Counter(_lines(tmp_path))
    for rid in rids:
        assert counts[f"teardown_request {rid}"] == 1, counts
        assert counts[f"teardown_request after-{rid}"] == 1, counts
        assert counts[f"closed db-{rid}"] == 1, counts
        assert counts[f"stream_finally {rid}"] == 1, counts


@pytest.mark.parametrize("name", list(SERVERS))
def test_server_table_matches_the_docs(name: str) -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "streaming.md").read_text()
    rows = [line for line in docs.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, f"docs/streaming.md's server table has no single row for {name}"
    assert NOTICED_BY[name] in rows[0]
    assert SERVERS[name].interface.upper() in rows[0]
