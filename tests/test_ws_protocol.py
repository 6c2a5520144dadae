"""What a WebSocket connection does whatever the server: a handler that only
sends learns of the client's departure, and values RFC 6455 forbids are
refused with a clear error before they reach the server.

The test client's transport, like granian (ASGI spec 2.3), drops a send
after the client has left instead of raising; the client's close reaches
the app only through ``receive``. The independent answers: the messages
the test itself sent, and the ``websockets`` package's own frame checks
(an implementation of RFC 6455 that is not ours).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import flask
from flask import websocket
from flask.testing import WebSocketRejected
from flask.websockets import WebSocketDisconnect

RFC6455_GOING_AWAY = 1001
SERVER_ERROR = 500


@pytest.fixture
def app() -> flask.Flask:
    return flask.Flask(__name__)


def _ticker(app: flask.Flask, events: list[object]) -> None:
    """/tick: sends until told the client is gone, never receives."""

    @app.websocket("/tick")
    async def tick() -> None:
        try:
            while True:
                await websocket.send("tick")
                await asyncio.sleep(0)
        except WebSocketDisconnect as e:
            events.append(("disconnect", e.code, e.reason))
            raise

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        events.append(("teardown", exc))


def test_a_handler_that_only_sends_learns_that_the_client_left(app):
    # Before read-ahead the handler sent into the void for ever: the
    # session's exit timed out waiting for it and teardown never ran.
    events: list[object] = []
    _ticker(app, events)
    with app.test_client().websocket("/tick", timeout=5) as ws:
        assert ws.receive() == "tick"
        assert ws.receive() == "tick"
        ws.close(4001, "done")
    assert events == [("disconnect", 4001, "done"), ("teardown", None)]


def test_a_sync_handler_that_only_sends_learns_it_too(app):
    events: list[object] = []
    sent = threading.Event()

    @app.websocket("/tick")
    def tick() -> None:
        try:
            while True:
                websocket.send("tick")
                sent.set()
        except WebSocketDisconnect as e:
            events.append(e.code)
            raise

    with app.test_client().websocket("/tick", timeout=5) as ws:
        assert ws.receive() == "tick"
        assert sent.wait(5)
        ws.close(RFC6455_GOING_AWAY)
    assert events == [RFC6455_GOING_AWAY]


def test_messages_read_ahead_reach_the_handler_in_order(app):
    # Three sends in a row start the read-ahead; what the client sent
    # meanwhile is still received, in its order, then the disconnect.
    got: list[object] = []

    @app.websocket("/ws")
    async def handler() -> None:
        for _ in range(3):
            await websocket.send("ready")
        try:
            while True:
                got.append(await websocket.receive())
        except WebSocketDisconnect as e:
            got.append(e.code)

    with app.test_client().websocket("/ws") as ws:
        ws.send("one")
        ws.send(b"two")
        ws.send("three")
        assert [ws.receive() for _ in range(3)] == ["ready"] * 3
        ws.close(4002)
    assert got == ["one", b"two", "three", 4002]


def test_an_echo_handler_reads_nothing_ahead(app):
    # Receive, send, receive: the plain path, one ASGI receive per message
    # and no task besides the handler's.
    tasks: list[int] = []

    @app.websocket("/echo")
    async def echo() -> None:
        for _ in range(3):
            await websocket.send(await websocket.receive())
            tasks.append(len(asyncio.all_tasks()))

    with app.test_client().websocket("/echo") as ws:
        for word in ("a", "b", "c"):
            ws.send(word)
            assert ws.receive() == word
    assert tasks == [1, 1, 1]


def test_a_subprotocol_the_client_did_not_offer_is_refused_clearly(app, caplog):
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept(subprotocol="v3")

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        with pytest.raises(WebSocketRejected) as info:
            with app.test_client().websocket("/ws", subprotocols=["v1", "v2"]):
                pass
    assert info.value.status == SERVER_ERROR
    assert "Subprotocol 'v3' was not offered by the client (it offered ['v1', 'v2'])" in caplog.text


def _websockets_refuses(code: int, reason: str) -> bool:
    """Whether the websockets package refuses to send this close frame."""
    frames = pytest.importorskip("websockets.frames")
    exceptions = pytest.importorskip("websockets.exceptions")
    try:
        close = frames.Close(code, reason)
        close.check()
        frames.Frame(frames.Opcode.CLOSE, close.serialize()).check()
    except exceptions.ProtocolError:
        return True
    return False


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1000, ""),
        (1000, "x" * 123),
        (1000, "x" * 124),
        (1000, "é" * 61),  # 122 bytes
        (1000, "é" * 62),  # 124 bytes
        (1000, "€" * 41),  # 123 bytes
        (999, ""),
        (1003, ""),
        (1004, ""),
        (1005, ""),
        (1006, ""),
        (1007, ""),
        (1014, ""),
        (1015, ""),
        (2999, ""),
        (3000, ""),
        (4999, ""),
        (5000, ""),
    ],
)
def test_close_refuses_what_rfc_6455_forbids_as_websockets_does(app, code, reason):
    outcome: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            await websocket.close(code, reason)
        except ValueError:
            outcome.append("refused")
            await websocket.close(1000)
        else:
            outcome.append("sent")

    with app.test_client().websocket("/ws") as ws:
        with pytest.raises(WebSocketDisconnect):
            ws.receive()
    assert outcome == ["refused" if _websockets_refuses(code, reason) else "sent"]


def test_read_ahead_holds_about_one_messages_worth_of_bytes(app):
    # A client must not make a connection buffer 64 large messages: the
    # read-ahead stops once it holds over WEBSOCKET_MAX_MESSAGE_SIZE bytes.
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 1000
    release = asyncio.Event()
    got: list[object] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send("a")
        await websocket.send("b")  # two sends, no receive: read ahead
        await release.wait()
        try:
            while True:
                got.append(await websocket.receive())
        except WebSocketDisconnect:
            pass

    texts = [str(i) * 400 for i in range(5)]
    messages = [
        {"type": "websocket.connect"},
        *({"type": "websocket.receive", "text": text} for text in texts),
        {"type": "websocket.disconnect", "code": 1000},
    ]
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "scheme": "ws", "path": "/ws", "raw_path": b"/ws", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"localhost")], "subprotocols": [],
        "server": ("localhost", 80), "client": ("127.0.0.1", 50000),
    }  # fmt: skip
    taken = 0

    async def receive() -> dict[str, object]:
        nonlocal taken
        taken += 1
        return messages[taken - 1]

    async def send(message: dict[str, object]) -> None:
        pass

    async def main() -> int:
        task = asyncio.ensure_future(app.asgi_app(scope, receive, send))
        for _ in range(100):
            await asyncio.sleep(0)
        before = taken
        release.set()
        await asyncio.wait_for(task, 5)
        return before

    # The handshake, then three texts of 400 characters: 1,200 > 1,000.
    assert asyncio.run(main()) == 1 + 3
    assert got == texts
