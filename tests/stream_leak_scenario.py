"""The pallets/flask#6123 scenario, runnable with any ``flask``.

A streamed ``stream_with_context`` response opens a "database session" in
``g`` and is read for two chunks on a reused worker thread; then the
client goes away. 100 more requests follow on the same thread. Each of
them reports whether it saw a fresh app context (no ``g.db`` left over),
and ``teardown_appcontext`` (which closes ``g.db``) is counted.

``python tests/stream_leak_scenario.py`` prints the results as JSON, so the
same scenario can be run with Pallets Flask in its own venv;
``tests/test_streaming.py`` asserts on them for this package.
"""

from __future__ import annotations

import gc
import http.client
import json
import socket
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import flask
from waits import wait_until  # tests/, beside this file
from werkzeug.test import create_environ

LATER_REQUESTS = 100


class Session:
    """Stands for a database session: it must be closed by teardown."""

    def __init__(self) -> None:
        self.closed = False


def make_app() -> tuple[flask.Flask, dict[str, t.Any]]:
    app = flask.Flask(__name__)
    seen: dict[str, t.Any] = {"teardowns": 0, "sessions": [], "stale": [], "threads": set(),
                              "closed": threading.Event()}

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        seen["teardowns"] += 1
        db = flask.g.pop("db", None)
        if db is not None:
            db.closed = True
            seen["closed"].set()

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> t.Iterator[str]:
            flask.g.db = Session()
            seen["sessions"].append(flask.g.db)
            while True:  # a client that stays would read forever
                yield "chunk\n" * 512

        return flask.stream_with_context(generate())

    @app.route("/")
    def index() -> t.Any:
        seen["stale"].append("db" in flask.g)
        seen["threads"].add(threading.get_ident())
        return "ok"

    return app, seen


def _summary(seen: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "requests": 1 + LATER_REQUESTS,
        "teardowns": seen["teardowns"],
        "later_requests_with_stale_context": sum(seen["stale"]),
        "sessions_closed": sum(s.closed for s in seen["sessions"]),
        "sessions_opened": len(seen["sessions"]),
        "threads_serving_later_requests": len(seen["threads"]),
    }


def abandoned_on_worker_thread() -> dict[str, t.Any]:
    """One worker thread serves every request (``app(environ,
    start_response)``, as a WSGI server's worker does). The stream is read
    for two chunks, then handed to another thread that drops it without
    ``close()`` (as a2wsgi under uvicorn did); the garbage collector
    finalizes it there."""
    app, seen = make_app()
    worker = ThreadPoolExecutor(1)
    box: list[t.Any] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        return lambda data: None

    def serve_stream() -> None:
        body = app(create_environ("/stream"), start_response)
        chunks = iter(body)
        next(chunks)
        next(chunks)
        box.append((body, chunks))

    def serve_index() -> None:
        # A context still current on this thread before the request starts.
        before = flask.has_app_context()
        b"".join(app(create_environ("/"), start_response))
        seen["stale"][-1] |= before

    worker.submit(serve_stream).result()

    def drop() -> None:
        box.pop()
        gc.collect()

    dropper = threading.Thread(target=drop)
    dropper.start()
    dropper.join()
    for _ in range(LATER_REQUESTS):
        worker.submit(serve_index).result()
    worker.shutdown()
    return _summary(seen)


def _read_two_chunks_and_leave(port: int, path: str = "/stream") -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while received.count(b"chunk\n") < 2 * 512:
            data = s.recv(65536)
            if not data:
                break
            received += data
        # Unread data makes close() send a reset: the server's next write fails.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def _get_many(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(LATER_REQUESTS):
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read() == b"ok"
    conn.close()


def disconnect_on_werkzeug_server() -> dict[str, t.Any]:
    """Werkzeug's server with one thread (every request on it): the client
    disconnects after two chunks, the server's write fails and it calls
    ``close()``; then 100 requests on the same thread."""
    from werkzeug.serving import make_server

    app, seen = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _read_two_chunks_and_leave(server.port)
        _get_many(server.port)
    finally:
        server.shutdown()
        thread.join(10)
    return _summary(seen)


def disconnect_on_uvicorn() -> dict[str, t.Any]:
    """This package's ASGI path under uvicorn (in this process, on a free
    port): the client disconnects after two chunks; then 100 requests."""
    import uvicorn

    app, seen = make_app()
    server = uvicorn.Server(uvicorn.Config(app.asgi_app, lifespan="off", log_level="warning"))
    sock = socket.socket()
    # Accepted sockets inherit it: no Nagle delay between uvicorn's writes.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, hang_bound=10, what="uvicorn to start")
        _read_two_chunks_and_leave(port)
        # The stream is torn down by the server's task, not before the next
        # request; wait for it (bounded) before counting.
        wait_until(seen["closed"].is_set, hang_bound=10, what="the stream's teardown")
        _get_many(port)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    return _summary(seen)


if __name__ == "__main__":
    print(json.dumps({
        "flask": flask.__file__,
        "abandoned_on_worker_thread": abandoned_on_worker_thread(),
        "disconnect_on_werkzeug_server": disconnect_on_werkzeug_server(),
    }, indent=1))
