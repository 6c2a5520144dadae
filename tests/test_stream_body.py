"""Routes with ``stream_body=True``: over ASGI the view reads the request
body while it arrives (docs/streaming.md, "Streamed uploads").

Over a real uvicorn, the client sends the body in pieces and sends the
rest only once the view has seen the first piece (an event the view sets):
a view that ran only after the whole body would never see it, and the test
would end at its hang bound.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import typing as t

import pytest

import flask
from waits import wait_until

BOUND = 10.0

pytestmark = pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _app() -> tuple[flask.Flask, dict[str, t.Any]]:
    app = flask.Flask(__name__)
    seen: dict[str, t.Any] = {"first": threading.Event(), "buffered_ran": threading.Event()}

    @app.post("/async", stream_body=True)
    async def async_upload() -> dict[str, t.Any]:
        pieces = []
        async for chunk in flask.request.stream_chunks():
            pieces.append(chunk.decode())
            seen["first"].set()
        return {"pieces": pieces}

    @app.post("/sync", stream_body=True)
    def sync_upload() -> dict[str, t.Any]:
        stream = flask.request.stream
        first = stream.read(5)
        seen["first"].set()
        return {"first": first.decode(), "rest": stream.read().decode()}

    @app.post("/buffered")
    def buffered() -> dict[str, t.Any]:
        seen["buffered_ran"].set()
        return {"data": flask.request.get_data(as_text=True)}

    return app, seen


@pytest.fixture
def served() -> t.Iterator[tuple[int, flask.Flask, dict[str, t.Any]]]:
    import uvicorn

    app, seen = _app()
    server = uvicorn.Server(uvicorn.Config(app.asgi_app, lifespan="off", log_level="warning"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, hang_bound=BOUND, what="uvicorn to start")
        yield sock.getsockname()[1], app, seen
    finally:
        server.should_exit = True
        thread.join(BOUND)
        sock.close()


def _read_response(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = s.recv(65536)
        assert chunk
        body += chunk
    return status, body


def _open(port: int, path: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    s.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    return s


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_view_reads_first_piece_before_the_rest_is_sent(served: t.Any, path: str) -> None:
    port, _, seen = served
    with _open(port, path) as s:
        s.sendall(_chunk(b"first"))
        assert seen["first"].wait(BOUND), "the view did not see the first piece before the rest"
        s.sendall(_chunk(b"second") + _chunk(b"third") + b"0\r\n\r\n")
        status, body = _read_response(s)
    assert status == 200
    if path == "/async":
        assert flask.json.loads(body)["pieces"][0] == "first"
        assert "".join(flask.json.loads(body)["pieces"]) == "firstsecondthird"
    else:
        assert flask.json.loads(body) == {"first": "first", "rest": "secondthird"}


def test_other_views_still_receive_the_body_first(served: t.Any) -> None:
    port, _, seen = served
    with _open(port, "/buffered") as s:
        s.sendall(_chunk(b"first"))
        # Not yet: the view of a buffered route waits for the whole body.
        # (Checked once the response came: it ran only after the last piece.)
        s.sendall(_chunk(b"second") + b"0\r\n\r\n")
        status, body = _read_response(s)
    assert status == 200
    assert flask.json.loads(body) == {"data": "firstsecond"}


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_413_as_the_limit_is_crossed_mid_stream(served: t.Any, path: str) -> None:
    port, app, seen = served
    app.config["MAX_CONTENT_LENGTH"] = 10
    with _open(port, path) as s:
        s.sendall(_chunk(b"12345678"))
        assert seen["first"].wait(BOUND)
        s.sendall(_chunk(b"90123456"))
        status, _ = _read_response(s)
    assert status == 413


def test_declared_length_over_the_limit_is_413(served: t.Any) -> None:
    port, app, seen = served
    app.config["MAX_CONTENT_LENGTH"] = 10
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as s:
        s.sendall(b"POST /async HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)
        status, _ = _read_response(s)
    assert status == 413
    assert not seen["first"].is_set()


def test_under_wsgi_the_option_is_accepted_and_the_stream_is_the_input() -> None:
    app, _ = _app()
    client = app.test_client(asgi=False)
    assert client.post("/sync", data=b"firstrest").json == {"first": "first", "rest": "rest"}
    assert client.post("/async", data=b"abc").json == {"pieces": ["abc"]}
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "sync_upload"]
    assert rule.stream_body is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "view_ran_first"), [("/buffered", False), ("/sync", True)])
def test_when_the_view_starts_relative_to_the_second_piece(path: str, view_ran_first: bool) -> None:
    """Straight over ASGI: at the second ``receive``, has the view started?"""
    import asyncio

    app, seen = _app()
    started = seen["first"] if path == "/sync" else seen["buffered_ran"]
    at_second: list[bool] = []
    pieces = [b"first", b"second"]

    async def main() -> list[dict[str, t.Any]]:
        sent: list[dict[str, t.Any]] = []

        async def receive() -> dict[str, t.Any]:
            if len(pieces) == 1:
                at_second.append(started.is_set())
            return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "method": "POST", "path": path, "http_version": "1.1",
            "headers": [(b"transfer-encoding", b"chunked")],
        }
        await app.asgi_app(scope, receive, send)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["status"] == 200
    assert at_second == [view_ran_first]
