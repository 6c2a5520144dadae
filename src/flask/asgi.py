# TEMPORARY: replaced by the asgi branch at merge
"""The smallest ASGI entry point the WebSocket branch needs until the ASGI
branch is merged: websocket scopes go to :func:`flask.websockets.serve_websocket`,
HTTP gets 404."""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


def environ_from_scope(scope: t.Mapping[str, t.Any], body: t.IO[bytes]) -> dict[str, t.Any]:
    """The WSGI environ for an ASGI ``http`` or ``websocket`` scope."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    path = scope.get("raw_path")
    path_info = scope["path"]
    root = scope.get("root_path", "")
    if root and path_info.startswith(root):
        path_info = path_info[len(root):]
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET" if scope["type"] == "websocket" else scope["method"],
        "SCRIPT_NAME": root.encode().decode("latin1"),
        "PATH_INFO": path_info.encode().decode("latin1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "asgi.scope": scope,
    }
    del path
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin1").upper().replace("-", "_")
        value = raw_value.decode("latin1")
        if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH":
            key = name
        else:
            key = f"HTTP_{name}"
        if key in environ and key.startswith("HTTP_"):
            sep = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = f"{environ[key]}{sep}{value}"
        else:
            environ[key] = value
    return environ


async def asgi_app(
    app: Flask,
    scope: t.MutableMapping[str, t.Any],
    receive: t.Callable[[], t.Awaitable[t.MutableMapping[str, t.Any]]],
    send: t.Callable[[t.MutableMapping[str, t.Any]], t.Awaitable[None]],
) -> None:
    """Serve one ASGI connection of ``app`` (websocket scopes only)."""
    kind = scope["type"]
    if kind == "websocket":
        from .websockets import serve_websocket

        await serve_websocket(app, scope, receive, send)
    elif kind == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"Not Found"})
    elif kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
