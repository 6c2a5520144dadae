"""``flask run`` for apps with WebSocket routes: the same app over ASGI.

Werkzeug's development server speaks WSGI only, which cannot carry a
WebSocket. When the app has WebSocket routes (or ``--asgi`` is given),
``flask run`` serves it with uvicorn instead, keeping what the WSGI server
gave: Werkzeug's reloader restarts the process on code changes, and in
debug mode HTTP requests still go through Werkzeug's interactive debugger
(bridged to ASGI by asgiref when it is installed).
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


def with_http_debugger(app: Flask, entry: ASGIApp) -> tuple[ASGIApp, bool]:
    """``entry`` with HTTP requests served through Werkzeug's debugger
    (over asgiref's WSGI bridge), and whether that was possible."""
    try:
        from asgiref.wsgi import WsgiToAsgi
    except ImportError:
        return entry, False
    from werkzeug.debug import DebuggedApplication

    http = WsgiToAsgi(DebuggedApplication(app, evalex=True))  # type: ignore[no-untyped-call]

    async def serve(scope: t.MutableMapping[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] == "http":
            await http(scope, receive, send)
        else:
            await entry(scope, receive, send)

    return serve, True


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
        entry, bridged = with_http_debugger(app, entry)
        note = (
            "; HTTP errors show the debugger"
            if bridged
            else "; install asgiref for the debugger on HTTP errors"
        )
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
