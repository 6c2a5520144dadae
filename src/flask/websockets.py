"""WebSocket routes under ASGI: the public names. The serving side is
:mod:`flask.asgi.websocket`, the connection objects
:mod:`flask.asgi.connection`; ``docs/websockets.md`` is the user's guide.
"""

from __future__ import annotations

from .asgi.connection import SyncWebSocket as SyncWebSocket
from .asgi.connection import WebSocket as WebSocket
from .asgi.connection import WebSocketDisconnect as WebSocketDisconnect
from .asgi.websocket import _same_origin as _same_origin  # noqa: F401  (tests check it)
from .asgi.websocket import origin_allowed as origin_allowed
from .asgi.websocket import REFUSAL_STATUS as REFUSAL_STATUS
from .asgi.websocket import serve_websocket as serve_websocket
from .asgi.websocket import WebSocketContext as WebSocketContext

__all__ = ["SyncWebSocket", "WebSocket", "WebSocketDisconnect", "serve_websocket"]
