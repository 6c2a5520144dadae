"""WebSocket routes: the life of one connection under ASGI.

::

    serve_websocket(app, scope, receive, send)
      websocket.connect received
      WebSocketContext.push()          url matched with websocket=True
      Origin check                     (WEBSOCKET_ALLOWED_ORIGINS)
      url_value_preprocessors, before_websocket hooks
      the handler                      async: awaited; sync: thread pool
      after_this_request functions,    (response or None)
      after_websocket hooks
      refusal or close                 HTTP denial response or close 1008;
                                       close 1000 after a normal return
      tear_down()                      teardown_request, teardown_appcontext
                                       (the HTTP steps), pop

The connection's steps are generators like a request's
(:mod:`flask.pipeline`), run by :func:`flask.concurrency.drive`: coroutine
functions are awaited on the loop, sync ones run in the thread pool, where
``websocket`` (and a connection argument) is the blocking flavour.

An error before accept becomes the handshake's HTTP answer (error handlers
apply); an error after accept closes with 1011 after the error handlers and
logging (1008 for a 4xx HTTP error, the client's fault). ``docs/websockets.md``
is the user's guide.

Nothing here runs for HTTP requests: :class:`flask.asgi.ASGIApp` imports this module
for the first websocket scope.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import typing as t
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from ..background import SEALED
from ..concurrency import blocking_step
from ..concurrency import call_step
from ..concurrency import drive
from ..concurrency import OnLoop
from ..concurrency import runs_on_loop
from ..concurrency import settle_step
from ..ctx import RequestContext
from ..globals import _cv_websocket
from ..pipeline import _in_except
from ..pipeline import _scopes
from ..pipeline import preprocess_steps
from ..pipeline import user_error_steps
from .connection import SyncWebSocket as SyncWebSocket
from .connection import WebSocket as WebSocket
from .connection import WebSocketDisconnect as WebSocketDisconnect
from .connection import _CONNECTING
from .connection import _CLOSED
from .connection import _OPEN
from .http import environ_from_scope
from .http import tear_down
from .response import encode_headers

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask
    from ..concurrency import Steps
    from ..wrappers import Request
    from ..wrappers import Response
    from .connection import Receive
    from .connection import Send

__all__ = ["SyncWebSocket", "WebSocket", "WebSocketDisconnect", "serve_websocket"]

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}

#: The status of a handshake refused with a value that names none (``return
#: "no"`` before accepting). make_response's 200 is no refusal a client can
#: understand (it reports "server rejected WebSocket connection: HTTP 200");
#: 403 says the server understood the request and declines it (RFC 9110
#: 15.5.4), and is what ASGI servers answer when an app closes before
#: accepting, so a refusal reads the same with or without the denial
#: response extension.
REFUSAL_STATUS = 403


class WebSocketContext(RequestContext):
    """The request context of a WebSocket handshake: the URL is matched
    against WebSocket rules only."""

    # A connection has no response to run background tasks after (and may
    # last for hours): a task added during one starts at once.
    _background_tasks = SEALED

    def match_request(self) -> None:
        """Match the URL among the WebSocket rules."""
        adapter = self.url_adapter
        assert adapter is not None  # push() matches only when one was bound
        try:
            rule, args = adapter.match(return_rule=True, websocket=True)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            self.request.url_rule = rule
            self.request.view_args = dict(args)


async def serve_websocket(app: Flask, scope: t.Mapping[str, t.Any], receive: Receive, send: Send) -> None:
    """Serve one ASGI ``websocket`` scope with ``app``'s WebSocket routes."""
    first = await receive()
    if first["type"] != "websocket.connect":
        return  # the client left before the handshake reached us
    ctx = WebSocketContext(app, environ_from_scope(scope, io.BytesIO()))
    conn = WebSocket(app, scope, receive, send, ctx.request)
    sync = conn.blocking(asyncio.get_running_loop())
    token = _cv_websocket.set(conn)
    # In each pool hop ``websocket`` is the blocking flavour (only that
    # hop's copy of the context sees it).
    enter = functools.partial(_cv_websocket.set, sync)  # type: ignore[arg-type]
    run = OnLoop()
    error: BaseException | None = None
    try:
        # Bind now so that push() matches through match_request() above.
        ctx.url_adapter  # noqa: B018
        ctx.push()
        try:
            error = await drive(_lifecycle(app, ctx, conn, sync, run), run, enter)
        except BaseException as e:
            error = e
            raise
    finally:
        conn.stop_reading()
        try:
            if ctx._cv_tokens:
                await tear_down(app, ctx, error, enter)
        finally:
            _cv_websocket.reset(token)


def _lifecycle(
    app: Flask, ctx: WebSocketContext, conn: WebSocket, sync: SyncWebSocket, run: OnLoop
) -> Steps[Exception | None]:
    """The connection's steps; gives the error teardown functions should
    see (like a request's, one that was handled by a 500 answer)."""
    request = ctx.request
    rv: t.Any = None
    status = REFUSAL_STATUS
    try:
        rv = _refusal(app, request)
        if rv is None:
            rv = yield from preprocess_steps(app, ctx, run, app.before_websocket_funcs)
        if rv is None:
            rv = yield from settle_step((yield from _handler(app, conn, sync, request, run)))
    except WebSocketDisconnect:
        return None  # the client left (or sent too much): nothing to answer
    except Exception as e:
        accepted = conn._state != _CONNECTING
        rv, unhandled = yield from _failed(app, conn, e, run, accepted)
        if accepted:
            return unhandled
        if isinstance(e, HTTPException) and e.code is not None:
            status = e.code  # an error handler's bare value answers for the error
    response = None
    if rv is not None:
        if conn._state == _CONNECTING:
            # make_response runs an HTTP error as the WSGI app it is.
            response = app.make_response(rv)
            if not _has_status(rv):
                response.status_code = status
        else:
            _warn_ignored(app, request, rv)
    # after_this_request functions first, in their order, as for HTTP;
    # like the after_websocket hooks they get the refusal or None.
    afters = [*ctx._after_request_functions]
    for scope in reversed(_scopes(ctx)):
        afters += reversed(app.after_websocket_funcs.get(scope, ()))
    for func in afters:
        result = yield from call_step(run, func, response)
        if response is not None and result is not None:
            response = result
    session = ctx._session_obj
    if session is not None and getattr(session, "modified", False):
        _warn_once(
            app,
            request,
            "WebSocket handler %r changed the session; it is not saved, as no"
            " response carries it: change it in an HTTP view. (Logged once per endpoint.)",
        )
    if response is not None:
        yield _refuse, (conn, response), {}
    elif conn._state != _CLOSED:
        yield conn.close, (1000,), {}
    return None


def _refusal(app: Flask, request: Request) -> HTTPException | None:
    """Why the handshake must be refused before any app code runs."""
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(app, origin, request):
        app.logger.warning(
            "WebSocket %s refused: Origin %r is not the page's own and is not in"
            " WEBSOCKET_ALLOWED_ORIGINS.",
            request.path,
            origin,
        )
        return Forbidden("The Origin of this WebSocket connection is not allowed.")
    if request.routing_exception is not None:
        raise request.routing_exception
    if request.url_rule is None:
        raise NotFound()
    return None


def origin_allowed(app: Flask, origin: str, request: Request) -> bool:
    """Whether a handshake with this ``Origin`` header may proceed: the
    same origin as the Host header, or one in ``WEBSOCKET_ALLOWED_ORIGINS``
    (``"*"`` allows any).

    Browsers send the cookies of the target site with a WebSocket handshake
    from any page, and the same-origin policy does not apply to WebSockets;
    without this check any site could act as a logged-in user (cross-site
    WebSocket hijacking).
    """
    allowed = app.config.get("WEBSOCKET_ALLOWED_ORIGINS")
    if allowed:
        if isinstance(allowed, str):
            allowed = (allowed,)
        wanted = origin.rstrip("/").lower()
        for item in allowed:
            if item == "*" or item.rstrip("/").lower() == wanted:
                return True
    return _same_origin(origin, request.host, request.scheme)


def _same_origin(origin: str, host: str, scheme: str) -> bool:
    try:
        parts = urlsplit(origin)
        origin_name, origin_port = parts.hostname, parts.port
    except ValueError:
        return False  # "null" and other unparsable origins
    if not origin_name or parts.scheme not in _DEFAULT_PORTS:
        return False
    if origin_port == _DEFAULT_PORTS[parts.scheme]:
        origin_port = None
    host_name, sep, port_text = host.rpartition(":")
    if not sep or "]" in port_text:
        host_name, port_text = host, ""
    host_port: int | None = int(port_text) if port_text.isdigit() else None
    # Behind a TLS proxy the Origin says https and the request http: a
    # default port on either side means "none given".
    if host_port == _DEFAULT_PORTS.get(scheme):
        host_port = None
    return origin_name == host_name.strip("[]").lower() and origin_port == host_port


def _handler(
    app: Flask, conn: WebSocket, sync: SyncWebSocket, request: Request, run: OnLoop
) -> Steps[t.Any]:
    rule = request.url_rule
    assert rule is not None
    handler = app.view_functions[rule.endpoint]
    args: tuple[t.Any, ...] = ()
    if _takes_connection(handler, rule):
        args = (conn if runs_on_loop(handler) else sync,)
    return (yield from call_step(run, handler, *args, **(request.view_args or {})))


def _takes_connection(handler: t.Callable[..., t.Any], rule: t.Any) -> bool:
    """Whether the handler's first parameter is not a URL variable, so it
    is given the connection (Flask-Sock's ``def echo(ws)``). Once per rule."""
    known = rule.__dict__.get("_flask_ws_arg")
    if known is None:
        try:
            params = [
                p
                for p in inspect.signature(handler).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            params = []
        known = rule._flask_ws_arg = bool(params) and params[0].name not in rule.arguments
    return known  # type: ignore[no-any-return]


def _failed(
    app: Flask, conn: WebSocket, e: Exception, run: OnLoop, accepted: bool
) -> Steps[tuple[t.Any, Exception | None]]:
    """``handle_user_exception``'s steps, then ``handle_exception`` (in the
    pool: it logs) for an error no handler took, as for HTTP. Gives what
    they made of it (before accept, the handshake's answer) and the error
    no handler took, if any. Before accept, an error propagated in debug
    and testing mode refuses with the 500 answer first; after accept, the
    connection closes with 1011, or 1008 for a 4xx HTTP error (a return
    value has nowhere to go)."""
    close: tuple[int, str] = (1011, "Internal error")
    if isinstance(e, HTTPException) and e.code is not None and e.code < 500:
        # The client's fault (a message receive_json() cannot parse, an
        # abort(403)): a policy violation, as a 4xx is no server error.
        close = (1008, e.name)
    try:
        try:
            return (yield from user_error_steps(app, run, e)), None
        except Exception as other:
            close = (1011, "Internal error")
            return (yield from blocking_step(run, _in_except, app.handle_exception, other)), other
    except Exception:
        if not accepted:
            yield _refuse, (conn, app.make_response(("Internal Server Error", 500))), {}
        raise
    finally:
        if accepted and conn._state == _OPEN:
            yield conn.close, close, {}


def _has_status(rv: t.Any) -> bool:
    """Whether a return value names its status, as ``make_response`` reads
    it: a response or HTTP error (alone or with headers), ``(body,
    status)`` or ``(body, status, headers)``; ``(body, headers)`` and a
    bare body do not."""
    if isinstance(rv, tuple) and rv:
        if len(rv) == 3 or isinstance(rv[0], BaseResponse):
            return True
        return len(rv) == 2 and not isinstance(rv[1], (Headers, dict, tuple, list))
    return isinstance(rv, (BaseResponse, HTTPException))


def _warn_ignored(app: Flask, request: Request, rv: t.Any) -> None:
    """Log that a return value came too late to refuse the handshake;
    dropping it silently hid handlers written as HTTP views."""
    _warn_once(
        app,
        request,
        "WebSocket handler %r returned a %s after the connection was accepted"
        " or closed; the value is ignored. Only a value returned before"
        " accepting refuses the handshake; send data with websocket.send()."
        " (Logged once per endpoint.)",
        type(rv).__name__,
    )


def _warn_once(app: Flask, request: Request, message: str, *args: t.Any) -> None:
    """Log ``message`` (its first argument the endpoint) once per endpoint
    and message."""
    warned: set[tuple[str | None, str]] = app.__dict__.setdefault("_flask_ws_warned", set())
    key = (request.endpoint, message)
    if key in warned:
        return
    warned.add(key)
    app.logger.warning(message, request.endpoint, *args)


async def _refuse(conn: WebSocket, response: Response) -> None:
    """Answer the handshake with ``response`` where the server supports
    ASGI's denial response extension; otherwise close with 1008 (servers
    then answer 403)."""
    if conn._state != _CONNECTING:
        return
    if "websocket.http.response" not in (conn.scope.get("extensions") or {}):
        await conn.close(1008)
        return
    conn._state = _CLOSED
    body = response.get_data()
    response.content_length = len(body)
    headers = encode_headers(response.headers.to_wsgi_list())
    await conn._send(
        {"type": "websocket.http.response.start", "status": response.status_code, "headers": headers}
    )
    await conn._send({"type": "websocket.http.response.body", "body": body, "more_body": False})
