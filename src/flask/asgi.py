"""Serving the app over ASGI: :meth:`Flask.asgi_app`.

One request path, two protocols. The scope becomes the same WSGI-style
``environ`` and :class:`~flask.Request`; the body is received before
dispatch (in memory, or spooled to a temporary file past
``ASGI_SPOOL_THRESHOLD``); then the steps of :mod:`flask.pipeline` run:

- a request whose view and hooks are all sync runs those steps, teardown
  included when the body is buffered, in one hop to the thread pool;
- a request with an async view or hook runs them on the event loop, each
  sync function in the pool (:mod:`flask.concurrency` decides where).

Streamed bodies are sent chunk by chunk (:mod:`flask._asgi_response`);
``call_on_close`` functions and teardown run after the last chunk, or
after the client went away.
``docs/asgi.md`` describes the model.
"""

from __future__ import annotations

import importlib
import io
import sys
import traceback
import typing as t

from ._asgi_body import receive_body
from ._asgi_body import SPOOL_CONFIG_KEY as SPOOL_CONFIG_KEY
from ._asgi_body import SPOOL_THRESHOLD as SPOOL_THRESHOLD
from ._asgi_response import encode_headers
from ._asgi_response import respond
from .concurrency import call
from .concurrency import is_async
from .concurrency import run_sync
from .concurrency import to_async
from .ctx import RequestContext
from .globals import _cv_app
from .globals import _cv_request
from .pipeline import _plain_answer
from .pipeline import _scopes
from .pipeline import _session_needs_saving
from .pipeline import _view_result
from .pipeline import do_teardown_appcontext
from .pipeline import do_teardown_request
from .pipeline import dispatch_request
from .pipeline import PRESERVE_CONTEXT_KEY
from .pipeline import preprocess_request
from .signals import appcontext_tearing_down
from .signals import request_finished
from .signals import request_started
from .signals import request_tearing_down

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Response

Scope = t.Mapping[str, t.Any]
Message = t.MutableMapping[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]
# (status line, headers, body) from pipeline._plain_answer, or a response.
Answer = t.Union[tuple[str, list[tuple[str, str]], bytes], "Response"]


_SCHEMES = {"ws": "http", "wss": "https"}


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
            await _serve_http(self.app, scope, receive, send)
        elif kind == "websocket":
            try:
                # Provided by flask.websockets when it is installed.
                module = importlib.import_module(".websockets", __package__)
            except ImportError:
                await send({"type": "websocket.close", "code": 1000})
                return
            await module.serve_websocket(self.app, scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(self.app, receive, send)
        else:
            raise ValueError(f"Unsupported ASGI scope type: {kind!r}")

    def __repr__(self) -> str:
        return f"<ASGIApp of {self.app.name!r}>"


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


def _base_environ(scope: Scope) -> dict[str, t.Any]:
    """The part of the environ that is the same for every request on one
    server: built once, copied per request."""
    try:
        # Servers send all four; indexing is cheaper than four get() calls.
        key = (scope["server"], scope["scheme"], scope["http_version"], scope["root_path"])
    except KeyError:
        key = (scope.get("server"), scope.get("scheme"), scope.get("http_version"), scope.get("root_path"))
    base = _bases.get(key)
    if base is None:
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
    environ = _base_environ(scope).copy()
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
    # Carried over by flask.testing's ASGI transport: the test client's own
    # environ keys (such as the context-preserving hook).
    extra = scope.get("flask.environ")
    if extra:
        environ.update(extra)
    return environ


# -- one HTTP request -----------------------------------------------------------


def _plain_methods(app: Flask) -> bool:
    """Whether the request-path methods the event-loop path replaces are
    Flask's own; a subclass overriding one is served in the pool, through
    its methods."""
    plain = app.__dict__.get("_asgi_plain")
    if plain is None:
        methods = (
            ("preprocess_request", preprocess_request),
            ("dispatch_request", dispatch_request),
            ("do_teardown_request", do_teardown_request),
            ("do_teardown_appcontext", do_teardown_appcontext),
        )
        plain = app.__dict__["_asgi_plain"] = all(
            getattr(type(app), name) is func for name, func in methods
        )
    return plain and app._default_pipeline()


def _needs_loop(app: Flask, ctx: RequestContext) -> bool:
    """Whether the request's view or a before/after-request hook is async.

    Read from the live registries (extensions add hooks while serving):
    a few dict lookups, against a pool hop saved when all are sync.
    """
    request = ctx.request
    rule = request.url_rule
    if rule is not None:
        view = app.view_functions.get(rule.endpoint)
        if view is not None and is_async(view):
            return True
    if not _hooks_registered(app):
        return False
    scopes = _scopes(ctx)
    for registry in (
        app.before_request_funcs,
        app.after_request_funcs,
        app.url_value_preprocessors,
    ):
        for scope in scopes:
            for func in registry.get(scope, ()):
                if is_async(func):
                    return True
    return False


def _in_except(handle: t.Callable[[Exception], t.Any], e: Exception) -> t.Any:
    # Flask's handlers re-raise with a bare ``raise``: give them the
    # exception as the one being handled, in whichever thread they run.
    try:
        raise e
    except Exception:
        return handle(e)


def _in_pool(
    app: Flask, ctx: RequestContext
) -> tuple[Answer, Exception | None, bool, Exception | None]:
    """The request's steps in one pool hop, as ``wsgi_app`` runs them:
    ``(answer, error, torn_down, teardown_error)``. A buffered answer's
    teardown runs here too."""
    error: Exception | None = None
    answer: Answer
    try:
        if app._default_pipeline():
            rv = _view_result(app)
            plain = _plain_answer(app, ctx, rv, ctx.request.environ)
            answer = app.finalize_request(rv) if plain is None else plain
        else:
            answer = app.full_dispatch_request()
    except Exception as e:
        error = e
        answer = app.handle_exception(e)
    if type(answer) is tuple or isinstance(answer.response, (list, tuple)):  # type: ignore[union-attr]
        try:
            ctx._teardown(_reported(app, error))
        except Exception as e:
            # Raised on the loop, once the contexts are popped.
            return answer, error, True, e
        return answer, error, True, None
    return answer, error, False, None


def _reported(app: Flask, error: BaseException | None) -> BaseException | None:
    if error is not None and app.should_ignore_error(error):
        return None
    return error


async def _on_loop(app: Flask, ctx: RequestContext) -> Answer:
    """The request's steps on the event loop, sync functions in the pool."""
    app._got_first_request = True
    request = ctx.request
    try:
        if request_started.receivers:
            await request_started.send_async(app, _sync_wrapper=to_async)
        rv = await _preprocess(app, ctx) if _has_preprocess(app, ctx) else None
        if rv is None:
            rule = request.url_rule
            if request.routing_exception is not None or (
                request.method == "OPTIONS"
                and getattr(rule, "provide_automatic_options", False)
            ):
                rv = app.dispatch_request()
            else:
                view = app.view_functions[rule.endpoint]  # type: ignore[union-attr]
                if is_async(view):
                    rv = await view(**request.view_args)  # type: ignore[arg-type]
                else:
                    rv = await run_sync(view, **request.view_args)  # type: ignore[arg-type]
    except Exception as e:
        rv = await _handle_user_exception(app, e)
    return _plain(app, ctx, rv) or await _finalize(app, ctx, rv)


def _lone_async_view(app: Flask, ctx: RequestContext) -> t.Any:
    """The matched view when it is async and nothing runs before it (no
    hook, URL value preprocessor or ``request_started`` receiver, not an
    automatic OPTIONS): it is then awaited directly, without
    :func:`_on_loop`'s checks. ``None`` otherwise."""
    request = ctx.request
    rule = request.url_rule
    if (
        rule is None
        or request.routing_exception is not None
        or request_started.receivers
        or _hooks_registered(app)
        or (request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False))
    ):
        return None
    view = app.view_functions.get(rule.endpoint)
    return view if view is not None and is_async(view) else None


async def _lone_view(app: Flask, ctx: RequestContext, view: t.Any) -> Answer:
    """What :func:`_on_loop` does for a :func:`_lone_async_view`."""
    app._got_first_request = True
    try:
        rv = await view(**ctx.request.view_args)  # type: ignore[arg-type]
    except Exception as e:
        rv = await _handle_user_exception(app, e)
    return _plain(app, ctx, rv) or await _finalize(app, ctx, rv)


async def _handle_user_exception(app: Flask, e: Exception) -> t.Any:
    if any(app.error_handler_spec.values()):
        # A sync handler may block: in the pool.
        return await run_sync(_in_except, app.handle_user_exception, e)
    return app.handle_user_exception(e)


def _plain(app: Flask, ctx: RequestContext, rv: t.Any) -> Answer | None:
    """The plain answer (:func:`~flask.pipeline._plain_answer`) when the
    session allows one to be decided on the loop."""
    if ctx.session_loaded or getattr(app.session_interface, "_cookie_based", False):
        # Opening a cookie session is CPU work; others may do I/O.
        return _plain_answer(app, ctx, rv, ctx.request.environ)
    return None


def _hooks_registered(app: Flask) -> bool:
    """Whether any before/after-request hook or URL value preprocessor is
    registered, for the app or a blueprint. Most apps have none; then the
    per-scope lookups for this request can be skipped (the registries are
    read live, so this is asked per request, in three truth tests)."""
    return bool(app.before_request_funcs or app.after_request_funcs or app.url_value_preprocessors)


def _has_preprocess(app: Flask, ctx: RequestContext) -> bool:
    preprocessors = app.url_value_preprocessors
    befores = app.before_request_funcs
    if not (preprocessors or befores):
        return False
    for scope in _scopes(ctx):
        if preprocessors.get(scope) or befores.get(scope):
            return True
    return False


async def _preprocess(app: Flask, ctx: RequestContext) -> t.Any:
    scopes = _scopes(ctx)
    preprocessors = app.url_value_preprocessors
    befores = app.before_request_funcs
    funcs = [f for s in scopes for f in preprocessors.get(s, ())]
    hooks = [f for s in scopes for f in befores.get(s, ())]
    if not any(map(is_async, funcs + hooks)):
        return await run_sync(app.preprocess_request)
    request = ctx.request
    for func in funcs:
        await call(func, request.endpoint, request.view_args)
    for func in hooks:
        rv = await call(func)
        if rv is not None:
            return rv
    return None


async def _finalize(app: Flask, ctx: RequestContext, rv: t.Any) -> Response:
    afters = app.after_request_funcs
    funcs = list(ctx._after_request_functions)
    for scope in reversed(_scopes(ctx)):
        funcs.extend(reversed(afters.get(scope, ())))
    if not any(map(is_async, funcs)):
        if (
            funcs
            or request_finished.receivers
            or not getattr(app.session_interface, "_cookie_based", False)
        ):
            return await run_sync(app.finalize_request, rv)
        return app.finalize_request(rv)
    response = app.make_response(rv)
    for func in funcs:
        response = await call(func, response)
    if _session_needs_saving(app, ctx):
        await run_sync(app.session_interface.save_session, app, ctx.session, response)
    if request_finished.receivers:
        await request_finished.send_async(app, _sync_wrapper=to_async, response=response)
    return response


def _no_teardown(app: Flask) -> bool:
    return not (
        app.teardown_request_funcs
        or app.teardown_appcontext_funcs
        or request_tearing_down.receivers
        or appcontext_tearing_down.receivers
    )


async def _serve_http(app: Flask, scope: Scope, receive: Receive, send: Send) -> None:
    environ = environ_from_scope(scope, _NO_BODY)
    if (
        "CONTENT_LENGTH" not in environ
        and "HTTP_TRANSFER_ENCODING" not in environ
        and environ["SERVER_PROTOCOL"] < "HTTP/2"
    ):
        # HTTP/1 without Content-Length or Transfer-Encoding: no body (RFC
        # 9112 6.3), nothing to wait for.
        environ["wsgi.input"] = io.BytesIO()
    elif not await receive_body(app, environ, receive):
        return
    ctx = app.request_context(environ)
    plain = _plain_methods(app)
    error: BaseException | None = None
    torn_down = False
    try:
        try:
            ctx.push()
            view = _lone_async_view(app, ctx) if plain else None
            if view is not None:
                answer = await _lone_view(app, ctx, view)
            elif plain and _needs_loop(app, ctx):
                answer = await _on_loop(app, ctx)
            else:
                # Errors are handled inside; one escaping is meant to.
                try:
                    answer, error, torn_down, failed = await run_sync(_in_pool, app, ctx)
                except BaseException as e:
                    error = e
                    raise _Propagate from e
                if failed is not None:
                    raise _Propagate from failed
        except _Propagate as wrapper:
            raise t.cast(BaseException, wrapper.__cause__) from None
        except Exception as e:
            error = e
            answer = await run_sync(_in_except, app.handle_exception, e)
        except BaseException as e:
            error = e
            raise
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
        if PRESERVE_CONTEXT_KEY in environ:
            environ[PRESERVE_CONTEXT_KEY](_cv_app.get())
            environ[PRESERVE_CONTEXT_KEY](_cv_request.get())
        if torn_down:
            ctx._pop_after_teardown()
        elif plain and _no_teardown(app) and type(ctx) is RequestContext:
            # Nothing registered to tear down: pop() less its calls into
            # the empty teardown registries.
            try:
                ctx.request.close()
            finally:
                ctx._pop_after_teardown()
        else:
            await tear_down(app, ctx, error)


async def tear_down(
    app: Flask,
    ctx: RequestContext,
    error: BaseException | None,
    run: t.Callable[..., t.Awaitable[t.Any]] = run_sync,
) -> None:
    """The last pop of a context pushed on the loop, for HTTP and WebSocket
    connections alike: the teardown functions in one hop through ``run``
    (the pool: sync ones may block; ``ensure_sync`` there runs async ones
    back on the loop), then the pop itself here, where the context
    variables were set."""
    try:
        await run(ctx._teardown, _reported(app, error))
    finally:
        ctx._pop_after_teardown()


class _Propagate(BaseException):
    """Carries an error the pool hop let escape past the handlers above."""


# Replaced by the received body before anything reads it.
_NO_BODY = io.BytesIO()

# -- lifespan ------------------------------------------------------------------------


async def _lifespan(app: Flask, receive: Receive, send: Send) -> None:
    """Run ``before_serving`` functions at startup and ``after_serving``
    ones at shutdown; a failure is reported, so the server stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            phase, funcs = "startup", app.before_serving_funcs
        elif message["type"] == "lifespan.shutdown":
            phase, funcs = "shutdown", app.after_serving_funcs
        else:
            continue
        try:
            with app.app_context():
                for func in funcs:
                    await call(func)
        except Exception:
            await send({"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()})
            return
        await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return
