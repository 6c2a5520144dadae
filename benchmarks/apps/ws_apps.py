"""The same two WebSocket endpoints in our Flask, Starlette and Quart.

``/echo`` sends every text message back; ``/broadcast`` keeps every open
connection in a set and sends each message it receives to all of them.
Each ``make_*`` returns the framework's ASGI callable (uvicorn --factory).
"""

from __future__ import annotations

import typing as t


def make_ours() -> t.Any:
    from flask import Flask
    from flask import websocket

    app = Flask(__name__)
    clients: set[t.Any] = set()

    @app.websocket("/echo")
    async def echo() -> None:
        while True:
            await websocket.send(await websocket.receive())

    @app.websocket("/broadcast")
    async def broadcast() -> None:
        me = websocket._get_current_object()  # type: ignore[attr-defined]
        clients.add(me)
        try:
            await websocket.accept()
            while True:
                message = await websocket.receive()
                for client in list(clients):
                    await client.send(message)
        finally:
            clients.discard(me)

    return app.asgi_app


def make_starlette() -> t.Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket
    from starlette.websockets import WebSocketDisconnect

    clients: set[WebSocket] = set()

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    async def broadcast(ws: WebSocket) -> None:
        await ws.accept()
        clients.add(ws)
        try:
            while True:
                message = await ws.receive_text()
                for client in list(clients):
                    await client.send_text(message)
        except WebSocketDisconnect:
            pass
        finally:
            clients.discard(ws)

    return Starlette(routes=[WebSocketRoute("/echo", echo), WebSocketRoute("/broadcast", broadcast)])


def make_quart() -> t.Any:
    from quart import Quart
    from quart import websocket

    app = Quart(__name__)
    clients: set[t.Any] = set()

    @app.websocket("/echo")
    async def echo() -> None:
        while True:
            await websocket.send(await websocket.receive())

    @app.websocket("/broadcast")
    async def broadcast() -> None:
        me = websocket._get_current_object()
        clients.add(me)
        try:
            await websocket.accept()
            while True:
                message = await websocket.receive()
                for client in list(clients):
                    await client.send(message)
        finally:
            clients.discard(me)

    return app
