"""The ASGI entry point, :class:`ASGIApp`: hands each scope to its module."""

from __future__ import annotations

import importlib
import typing as t

from .http import serve_http
from .lifespan import lifespan

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask
    from .http import Receive
    from .http import Scope
    from .http import Send


class ASGIApp:
    """What :attr:`Flask.asgi_app` is: an ASGI 3 application for one app.

    An object with an ``async def __call__`` rather than a bound method, so
    servers that look for a coroutine ``__call__`` (uvicorn does) see ASGI 3.

    .. beyond-flask:: The same app served natively over ASGI.
    """

    __slots__ = ("app",)

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await serve_http(self.app, scope, receive, send)
        elif kind == "websocket":
            try:
                # Provided by flask.asgi.websocket when it is installed.
                module = importlib.import_module(".websocket", __package__)
            except ImportError:
                await send({"type": "websocket.close", "code": 1000})
                return
            await module.serve_websocket(self.app, scope, receive, send)
        elif kind == "lifespan":
            await lifespan(self.app, receive, send)
        else:
            raise ValueError(f"Unsupported ASGI scope type: {kind!r}")

    def __repr__(self) -> str:
        return f"<ASGIApp of {self.app.name!r}>"
