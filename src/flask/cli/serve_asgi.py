"""``flask run`` for apps with WebSocket routes: the same app over ASGI.

Werkzeug's development server speaks WSGI only, which cannot carry a
WebSocket. When the app has WebSocket routes (or ``--asgi`` is given),
``flask run`` serves it with uvicorn instead, keeping what the WSGI server
gave: Werkzeug's reloader restarts the process on code changes, and in
debug mode an HTTP request that raises shows Werkzeug's interactive
debugger. HTTP requests are served by ``app.asgi_app``, as in production.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask

ASGIApp = t.Callable[
    [t.MutableMapping[str, t.Any], t.Callable[..., t.Any], t.Callable[..., t.Any]],
    t.Awaitable[None],
]


def has_websocket_routes(app: t.Any) -> bool:
    """Whether ``app`` (a Flask app, or any WSGI callable) has WebSocket rules."""
    url_map = getattr(app, "url_map", None)
    return url_map is not None and any(rule.websocket for rule in url_map.iter_rules())


# Where the debugger middleware hands Werkzeug's debugger the error to show.
_ERROR_KEY = "flask.cli.debugged_error"


def with_http_debugger(app: Flask, entry: ASGIApp) -> tuple[ASGIApp, bool]:
    """``entry`` with Werkzeug's interactive debugger for HTTP requests.

    Requests go through ``entry`` (the app's own ASGI path); only when one
    raises before its response started is Werkzeug's ``DebuggedApplication``
    asked, in the thread pool, to render that error (and to answer its own
    ``__debugger__`` requests: console commands, resources, the PIN). The
    debugger stays Werkzeug's WSGI application because its console runs
    code in the frames of the traceback it keeps.
    """
    from werkzeug.debug import DebuggedApplication

    def reraise(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        raise environ[_ERROR_KEY]

    debugged = DebuggedApplication(reraise, evalex=True)

    async def serve(scope: t.MutableMapping[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] != "http":
            await entry(scope, receive, send)
            return
        if b"__debugger__=yes" in scope.get("query_string", b""):
            await _call_wsgi(debugged, scope, await _body(receive), {}, send)
            return
        started = False

        async def watched(message: t.MutableMapping[str, t.Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await entry(scope, receive, watched)
        except Exception as e:
            if started:
                raise
            await _call_wsgi(debugged, scope, b"", {_ERROR_KEY: e}, send)

    return serve, True


async def _body(receive: t.Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _call_wsgi(
    wsgi: t.Callable[..., t.Iterable[bytes]],
    scope: t.MutableMapping[str, t.Any],
    body: bytes,
    extra: dict[str, t.Any],
    send: t.Any,
) -> None:
    """Answer one request with a WSGI application run in the pool."""
    from io import BytesIO

    from ..asgi.http import environ_from_scope
    from ..concurrency import call

    environ = environ_from_scope(scope, BytesIO(body))
    environ.update(extra)

    def run() -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[t.Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Any:
            started[:] = [status, headers]
            return chunks.append

        result = wsgi(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], b"".join(chunks)

    status, headers, content = await call(run)
    await send({
        "type": "http.response.start",
        "status": int(status.split(" ", 1)[0]),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    })
    await send({"type": "http.response.body", "body": content})


def run_asgi(
    app: Flask,
    host: str,
    port: int,
    *,
    reload: bool,
    debugger: bool,
    extra_files: list[str] | None = None,
    exclude_patterns: list[str] | None = None,
    echo: t.Callable[[str], None] = print,
) -> None:
    """Serve ``app`` over ASGI with uvicorn, as ``flask run`` does for apps
    with WebSocket routes."""
    import uvicorn
    from werkzeug.serving import is_running_from_reloader

    entry: ASGIApp = app.asgi_app
    note = ""
    if debugger:
        entry, _ = with_http_debugger(app, entry)
        note = "; HTTP errors show the debugger"
    if not is_running_from_reloader():
        why = "WebSocket routes found: s" if has_websocket_routes(app) else "S"
        echo(f" * {why}erving over ASGI with uvicorn (WebSocket and HTTP){note}.")

    server = uvicorn.Server(uvicorn.Config(entry, host=host, port=port, log_level="info"))

    def serve() -> bool:
        # In the main thread, where uvicorn handles Ctrl+C and SIGTERM with
        # a full shutdown (after_serving hooks run). It raises the signal
        # again once shut down; a Ctrl+C then ends quietly, as with
        # uvicorn.run.
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        except SystemExit:
            # uvicorn exits when it cannot start (a failing before_serving
            # hook, a port in use); under the reloader the child then waits
            # for a fix, as Werkzeug's does, instead of exiting with 3,
            # which asks for a restart.
            if not reload:
                raise
        return server.started

    def stop() -> None:
        server.should_exit = True

    if reload:
        from .._accel.reloader import run_with_reloader

        run_with_reloader(
            serve, stop, extra_files=extra_files, exclude_patterns=exclude_patterns
        )
    else:
        serve()
