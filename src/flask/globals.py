"""The context variables behind Flask's global proxies.

This module sits just above the data types: it imports nothing else from
``flask`` at run time, so every other module may import it.
"""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

from werkzeug.local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .ctx import _AppCtxGlobals
    from .ctx import AppContext
    from .ctx import RequestContext
    from .sessions import SessionMixin
    from .asgi.connection import WebSocket
    from .wrappers import Request

# The first line of each message is Flask's (tests match it); the advice
# after it is this project's.
_no_app_msg = """\
Working outside of application context.

Something here needs the current application ('current_app', 'g',
'url_for', ...) and no application context is active. Wrap the code in
'with app.app_context():'; requests and CLI commands push one themselves.\
"""
_no_req_msg = """\
Working outside of request context.

Something here needs the current request ('request', 'session', ...) and
no request is being handled. In tests, use 'with app.test_request_context():'
or the test client to make one.\
"""

_no_ws_msg = """\
Working outside of a WebSocket connection.

The 'websocket' object is only available inside a handler registered with
'@app.websocket(...)' (and in its before/after hooks).\
"""

_object_getattribute = object.__getattribute__


class _ContextProxy(LocalProxy):  # type: ignore[type-arg]  # LocalProxy is generic only to type checkers
    """Werkzeug's ``LocalProxy``, with public attribute reads and all
    writes forwarded in one step.

    ``LocalProxy`` reaches ``__getattr__`` only after the proxy's own lookup
    fails, then goes through a lookup descriptor: 1.3 us for ``g.x``, now
    0.5 us. Views and extensions touch ``request``, ``g``, ``session`` and
    ``current_app`` many times per request. Names starting with ``_`` and
    every other operation keep Werkzeug's path.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> t.Any:
        if name[:1] == "_":
            return _object_getattribute(self, name)
        return getattr(_object_getattribute(self, "_get_current_object")(), name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(_object_getattribute(self, "_get_current_object")(), name, value)


# An unbound proxy's repr shows the class name; keep Werkzeug's.
_ContextProxy.__name__ = _ContextProxy.__qualname__ = "LocalProxy"

#: The classes whose instances are applications to the ``flask`` command:
#: :mod:`flask.app` adds ``Flask`` as it defines it. App discovery
#: (:mod:`flask.discovery`) sits below the app, since every app's command
#: group loads apps through it, so it reads this list instead of importing
#: the app back.
app_classes: list[type[Flask]] = []

_cv_app: ContextVar[AppContext] = ContextVar("flask.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("flask.request_ctx")
_cv_websocket: ContextVar[WebSocket] = ContextVar("flask.websocket")

app_ctx: AppContext = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_app, unbound_message=_no_app_msg
)
current_app: Flask = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_app, "app", unbound_message=_no_app_msg
)
g: _AppCtxGlobals = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_app, "g", unbound_message=_no_app_msg
)

request_ctx: RequestContext = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_request, unbound_message=_no_req_msg
)
request: Request = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_request, "request", unbound_message=_no_req_msg
)
session: SessionMixin = _ContextProxy(  # type: ignore[assignment]  # the proxy stands for the object; typed as it, as Flask types it
    _cv_request, "session", unbound_message=_no_req_msg
)

_websocket_get = _cv_websocket.get


class _WebSocketProxy(_ContextProxy):
    """The ``websocket`` proxy: public attributes read straight from the
    context variable. An echo handler reads it twice per message, and
    the generic path (``_get_current_object``) was 40% of a round trip."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> t.Any:
        if name[:1] == "_":
            return _object_getattribute(self, name)
        try:
            conn = _websocket_get()
        except LookupError:
            raise RuntimeError(_no_ws_msg) from None
        return getattr(conn, name)


_WebSocketProxy.__name__ = _WebSocketProxy.__qualname__ = "LocalProxy"

#: The current WebSocket connection (see :mod:`flask.websockets`). In a
#: sync handler it is the blocking flavour, :class:`~flask.websockets.SyncWebSocket`.
websocket: WebSocket = _WebSocketProxy(  # type: ignore[assignment]
    _cv_websocket, unbound_message=_no_ws_msg
)
