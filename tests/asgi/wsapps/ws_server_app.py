"""The app the real-server WebSocket tests serve (tests/asgi/test_ws_servers.py).

Served as ``ws_server_app:asgi`` by uvicorn, hypercorn and granian.
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask
from flask import abort
from flask import request
from flask import session
from flask import websocket

app = Flask(__name__)
app.config.update(SECRET_KEY="server test key", WEBSOCKET_MAX_MESSAGE_SIZE=1000)


@app.post("/login")
def login() -> str:
    session["user"] = "ann"
    return "ok"


@app.get("/page")
def page() -> str:
    return "page"


@app.websocket("/echo/<int:times>")
async def echo(times: int) -> None:
    await websocket.accept(subprotocol=websocket.subprotocols[0] if websocket.subprotocols else None)
    await websocket.send(f"user={session.get('user')}")
    while True:
        message = await websocket.receive()
        for _ in range(times):
            await websocket.send(message)


@app.websocket("/json")
async def json_echo() -> None:
    while True:
        await websocket.send_json({"echo": await websocket.receive_json()})


@app.websocket("/sync")
def sync_echo(ws: t.Any) -> None:
    while True:
        ws.send(ws.receive())


@app.errorhandler(403)
def forbidden(e: Exception) -> tuple[str, int, dict[str, str]]:
    return "refused by the app", 403, {"X-Refused": "yes"}


@app.websocket("/deny")
async def deny() -> None:
    abort(403)


@app.websocket("/fail")
async def fail() -> None:
    await websocket.send("about to fail")
    raise RuntimeError("handler failed on purpose")


def _track(line: str) -> None:
    path = os.environ.get("WS_TRACK_FILE")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


@app.websocket("/track")
async def track() -> None:
    from flask.websockets import WebSocketDisconnect

    try:
        while True:
            await websocket.receive()
    except WebSocketDisconnect as e:
        _track(f"disconnect {e.code}")
        raise


@app.websocket("/ticker")
async def ticker() -> None:
    # Sends only: granian drops a send after the client left, so only the
    # read-ahead (flask.asgi.connection) tells this handler it is gone.
    import asyncio

    from flask.websockets import WebSocketDisconnect

    try:
        while True:
            await websocket.send("tick")
            await asyncio.sleep(0.01)
    except WebSocketDisconnect:
        _track("ticker disconnect")
        raise


@app.websocket("/unoffered")
async def unoffered() -> None:
    await websocket.accept(subprotocol="never.offered")


@app.teardown_request
def teardown(exc: BaseException | None) -> None:
    if request.path in ("/track", "/ticker"):
        _track(f"teardown {request.path} {exc!r}")


asgi = app.asgi_app
