"""HTTP over ASGI: the scope becomes the same WSGI-style ``environ`` and
:class:`~flask.Request`; the body is received before dispatch
(:mod:`flask.asgi.body`), or once the URL is matched when some route
streams its body (``stream_body=True``); then the steps of :mod:`flask.pipeline` run,
driven on the event loop by :func:`flask.concurrency.drive` (coroutine
functions awaited there, each run of sync steps in one pool hop, so an
all-sync request costs one hop; a buffered answer's teardown is part of
that hop). The answer is sent by :mod:`flask.asgi.response`; a streamed
one is torn down after its last chunk.
"""

from __future__ import annotations

import io
import sys
import typing as t

from ..background import finish_for_test
from ..background import propagates
from ..background import SEALED
from ..background import start_on_loop
from ..concurrency import blocking_step
from ..concurrency import call_step
from ..concurrency import drive
from ..concurrency import OnLoop
from ..globals import _cv_app
from ..globals import _cv_request
from ..pipeline import _in_except
from ..pipeline import _own_steps
from ..pipeline import quiet_app_teardown
from ..pipeline import quiet_teardown
from ..pipeline import reported
from ..pipeline import respond_steps
from ..pipeline import teardown_steps
from .body import receive_body
from .body import receive_for_view
from .response import encode_headers
from .response import respond

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask
    from ..concurrency import Steps
    from ..ctx import RequestContext
    from ..pipeline import Answer

Scope = t.Mapping[str, t.Any]
Message = t.MutableMapping[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]

#: The scope extension (``scope["extensions"][TESTING_EXTENSION]``) the test
#: client's ASGI transport (:mod:`flask.asgi.testing`) sends: ``{"environ":
#: extra environ keys, "contexts": callback or None}``. The callback is
#: called with the request's app context, then its request context, before
#: they are popped
#: (``with client:``), as Werkzeug's ``werkzeug.debug.preserve_context``
#: does under WSGI. Servers send no such key; looking for it costs one
#: failed dict lookup per request.
TESTING_EXTENSION = "flask.testing"

_SCHEMES = {"ws": "http", "wss": "https"}


# -- the environ --------------------------------------------------------------

# Header name (as ASGI sends it) -> environ key; bounded, names are client data.
_header_keys: dict[bytes, str | None] = {}


def _header_key(name: bytes) -> str | None:
    key = _header_keys.get(name)
    if key is None and name not in _header_keys:
        text = name.decode("latin-1").upper()
        if "_" in text:
            # Like Werkzeug's server: "X_Auth" must not pose as "X-Auth".
            key = None
        elif text in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            key = text.replace("-", "_")
        else:
            key = "HTTP_" + text.replace("-", "_")
        if len(_header_keys) < 512:
            _header_keys[name] = key
    return key


# (server, scheme, http_version, root_path) -> the environ keys they give.
_bases: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}


def _base_environ(key: tuple[t.Any, ...]) -> dict[str, t.Any]:
    """The part of the environ that is the same for every request on one
    server (``key``: its server, scheme, HTTP version and root path): built
    once, copied per request."""
    server = key[0] or ("localhost", 80)
    scheme = key[1] or "http"
    root_path: str = key[3] or ""
    base = {
        "SCRIPT_NAME": root_path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": "HTTP/" + (key[2] or "1.1"),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": _SCHEMES.get(scheme, scheme),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if len(_bases) < 64:
        _bases[key] = base
    return base


def environ_from_scope(scope: Scope, body: t.IO[bytes]) -> dict[str, t.Any]:
    """The WSGI environ for an ``http`` or ``websocket`` scope, reading the
    request body from ``body``.

    ``SCRIPT_NAME`` is the scope's ``root_path`` (removed from the front of
    ``path`` when the server left it there), paths are WSGI's latin-1
    strings, ``ws``/``wss`` schemes become ``http``/``https``, and the
    scope itself is under ``asgi.scope``.
    """
    try:
        # Servers send all four; indexing is cheaper than four get() calls.
        where = (scope["server"], scope["scheme"], scope["http_version"], scope["root_path"])
    except KeyError:
        where = (scope.get("server"), scope.get("scheme"), scope.get("http_version"), scope.get("root_path"))
    environ = (_bases.get(where) or _base_environ(where)).copy()
    path: str = scope["path"]
    root_path = scope.get("root_path")
    if root_path and path.startswith(root_path):
        rest = path[len(root_path) :]
        if not rest or rest[0] == "/":
            path = rest
    query = (scope.get("query_string") or b"").decode("latin-1")
    environ["REQUEST_METHOD"] = scope.get("method", "GET") if scope["type"] == "http" else "GET"
    environ["PATH_INFO"] = (
        path if path.isascii() else path.encode("utf-8", "surrogateescape").decode("latin-1")
    )
    environ["QUERY_STRING"] = query
    environ["wsgi.input"] = body
    environ["asgi.scope"] = scope
    raw_path = scope.get("raw_path")
    if raw_path:
        uri = raw_path.decode("latin-1")
        environ["REQUEST_URI"] = environ["RAW_URI"] = f"{uri}?{query}" if query else uri
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    keys = _header_keys
    for name, value in scope["headers"]:
        key = keys.get(name) or _header_key(name)
        if key is None:
            continue
        if key in environ:
            # Repeated headers join as one, cookies with their own separator.
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value.decode("latin-1")
        else:
            environ[key] = value.decode("latin-1")
    return environ


# -- one HTTP request -----------------------------------------------------------

# Replaced by the received body before anything reads it.
_NO_BODY = io.BytesIO()
# The steps' third result when the answer is streamed: not torn down yet.
_LATER: t.Any = object()


def _http_steps(
    app: Flask, ctx: RequestContext, run: OnLoop, receive: Receive | None = None
) -> Steps[tuple[Answer | None, Exception | None, Exception | None]]:
    """One request: push, the answer (or ``handle_exception``'s), and for
    a buffered answer the teardown. Gives ``(answer, error, teardown
    error)``, the last :data:`_LATER` if teardown is still to come; the
    answer is ``None`` when the client left before its body was received
    (``receive`` given: the body is received once the URL is matched)."""
    error: Exception | None = None
    answer: Answer
    own = _own_steps(app)
    try:
        ctx.push()  # on the loop: the driver starts the steps there
        if receive is not None and not (yield from call_step(run, receive_for_view, app, ctx, receive)):
            return None, None, _LATER
        answer = yield from respond_steps(app, ctx, run, own)
    except Exception as e:
        error = e
        answer = yield from blocking_step(run, _in_except, app.handle_exception, e)
    if type(answer) is not tuple and not isinstance(answer.response, (list, tuple)):  # type: ignore[union-attr]
        return answer, error, _LATER
    try:
        if not quiet_teardown(app, ctx, own):
            yield from teardown_steps(app, ctx, run, reported(app, error))
    except Exception as e:
        # Raised once the contexts are popped, as pop() would.
        return answer, error, e
    return answer, error, None


async def serve_http(app: Flask, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``http`` scope."""
    environ = environ_from_scope(scope, _NO_BODY)
    extensions = scope.get("extensions")
    testing = extensions.get(TESTING_EXTENSION) if extensions else None
    if testing is not None:
        environ.update(testing["environ"])
    streaming: Receive | None = None
    if (
        "CONTENT_LENGTH" not in environ
        and "HTTP_TRANSFER_ENCODING" not in environ
        and environ["SERVER_PROTOCOL"] < "HTTP/2"
    ):
        # HTTP/1 without Content-Length or Transfer-Encoding: no body (RFC
        # 9112 6.3), nothing to wait for.
        environ["wsgi.input"] = io.BytesIO()
    elif app.__dict__.get("_flask_stream_bodies"):
        # Some route streams its body: received once the URL is matched.
        streaming = receive
    elif not await receive_body(app, environ, receive):
        return
    ctx = app.request_context(environ)
    run = OnLoop()
    error: BaseException | None = None
    failed: t.Any = _LATER
    try:
        try:
            answer, error, failed = await drive(_http_steps(app, ctx, run, streaming), run)
        except BaseException as e:
            error = e
            raise
        if failed is not _LATER:
            # Torn down already: popped before anything is sent, as under
            # WSGI, where the pop precedes the server's write. A server that
            # copies the context while sending (uvicorn's keep-alive timer
            # is a call_later, whose handle holds a copy until it is due)
            # would otherwise keep the whole request alive for seconds.
            _pop_torn_down(ctx, testing)
            if failed is not None:
                raise failed
        if answer is None:
            return  # the client left: torn down below
        if type(answer) is tuple:
            # A plain answer (pipeline._plain_answer): one body message.
            status, headers, body = answer
            await send(
                {"type": "http.response.start", "status": int(status[:3]), "headers": encode_headers(headers)}
            )
            await send({"type": "http.response.body", "body": b"" if environ["REQUEST_METHOD"] == "HEAD" else body})
        else:
            await respond(ctx, answer, receive, send)  # type: ignore[arg-type]
    finally:
        if not ctx._cv_tokens:
            pass  # popped above, or the push failed before it set anything
        elif failed is _LATER:
            _preserve(testing)
            await tear_down(app, ctx, error)
        else:
            _pop_torn_down(ctx, testing)
        if testing is None and environ.get("werkzeug.request") is ctx.request:
            # The request and this environ (ours: no server holds it) refer
            # to each other; unlinked, both are freed as the request ends,
            # rather than left to the cycle collector, whose passes over a
            # real app's heap cost more than this request's own work.
            del environ["werkzeug.request"]
        tasks = ctx._background_tasks
        ctx._background_tasks = SEALED
        if tasks is not None:
            # Started now that the response is sent; the test client waits.
            started = start_on_loop(app, tasks, quiet_app_teardown(app))
            if testing is not None:
                await _finish_for_test(app, started)


def _preserve(testing: t.Mapping[str, t.Any] | None) -> None:
    """Hand the current contexts to the test client's ``with client:``."""
    if testing is not None and testing["contexts"] is not None:
        testing["contexts"](_cv_app.get())
        testing["contexts"](_cv_request.get())


def _pop_torn_down(ctx: RequestContext, testing: t.Mapping[str, t.Any] | None) -> None:
    """The pop of a request whose teardown steps have run."""
    _preserve(testing)
    ctx._pop_after_teardown()


async def _finish_for_test(app: Flask, started: list[t.Any]) -> None:
    """Under the test client: wait for the request's background tasks,
    raising the first error as a view's would be."""
    first = await finish_for_test(started)
    if first is not None and propagates(app):
        raise first


async def tear_down(
    app: Flask,
    ctx: RequestContext,
    error: BaseException | None,
    enter: t.Callable[[], t.Any] | None = None,
) -> None:
    """The last pop of a context pushed on the loop, for HTTP and WebSocket
    connections alike: the teardown steps (async functions awaited, sync
    ones in the pool; ``enter`` as for :func:`~flask.concurrency.drive`),
    then the pop itself here, where the context variables were set."""
    run = OnLoop()
    try:
        if not quiet_teardown(app, ctx):
            await drive(teardown_steps(app, ctx, run, reported(app, error)), run, enter)
    finally:
        ctx._pop_after_teardown()
