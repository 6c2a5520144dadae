"""The test client's ASGI transport: ``FlaskClient(asgi=True)`` or
``FLASK_TEST_ASGI=1``.

The client builds its WSGI environ as usual; here it becomes an ASGI
``http`` scope, the app's :attr:`~flask.Flask.asgi_app` runs in an event
loop, and the messages it sends become the status, headers and body the
client's response is made of. Environ keys an ASGI scope has no place for
(the test client's own, ``wsgi.errors``) and the context-keeping callback
of ``with client:`` ride along in the scope extension
:data:`flask.asgi.http.TESTING_EXTENSION`, so ``with client:`` keeps its
contexts as over WSGI.
"""

from __future__ import annotations

import asyncio
import typing as t
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_current_url

from .._accel.testclient import add_cookies
from .._accel.testclient import has_jar
from .._accel.testclient import update_cookies

from ..concurrency import _loop_runs_here
from ..concurrency import _on_a_thread_of_its_own
from ..pipeline import PRESERVE_CONTEXT_KEY
from .http import TESTING_EXTENSION

if t.TYPE_CHECKING:  # pragma: no cover
    from ..testing import FlaskClient

# Environ keys the scope itself carries.
_FROM_SCOPE = frozenset(
    (
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
    )
)


def _text(value: str) -> str:
    # WSGI strings are latin-1 stand-ins for bytes; ASGI paths are text.
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


def scope_from_environ(environ: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The ASGI ``http`` scope for a WSGI environ (the reverse of
    :func:`flask.asgi.environ_from_scope`); a WebSocket test session makes
    it a ``websocket`` one."""
    headers: list[tuple[bytes, bytes]] = []
    extra: dict[str, t.Any] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if value:
                name = key.replace("_", "-").lower()
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
        elif key == "wsgi.errors" or (
            key not in _FROM_SCOPE and not key.startswith("wsgi.")
        ):
            extra[key] = value
    root_path = _text(environ.get("SCRIPT_NAME", ""))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    scope: dict[str, t.Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"],
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": root_path + _text(environ.get("PATH_INFO", "")),
        "raw_path": None,
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": root_path,
        "headers": headers,
        "server": (environ.get("SERVER_NAME", "localhost"), int(environ.get("SERVER_PORT") or 80)),
    }
    contexts = extra.pop(PRESERVE_CONTEXT_KEY, None)
    scope["extensions"] = {TESTING_EXTENSION: {"environ": extra, "contexts": contexts}}
    if "REMOTE_ADDR" in environ:
        scope["client"] = (environ["REMOTE_ADDR"], int(environ.get("REMOTE_PORT") or 0))
    return scope


async def call_asgi(
    app: t.Callable[..., t.Awaitable[None]], scope: dict[str, t.Any], body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    """Run one request through an ASGI app: ``(status, headers, chunks)``.
    The client disconnects once the whole response has been sent."""
    done = asyncio.Event()
    received = False
    start: dict[str, t.Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, t.Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, t.Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    if not start:
        raise RuntimeError("The ASGI app returned without sending a response.")
    return start["status"], list(start.get("headers", ())), chunks


def _run(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run ``coro`` to completion in a new event loop in this thread, with
    this thread's context variables (so an app context the test pushed is
    seen, as under WSGI); in a helper thread if a loop already runs here."""
    if _loop_runs_here():
        return _on_a_thread_of_its_own(lambda: coro)()
    return asyncio.run(coro)


def run_asgi_app(
    client: FlaskClient, environ: dict[str, t.Any]
) -> tuple[t.Iterable[bytes], str, Headers]:
    """What ``werkzeug.test.Client.run_wsgi_app`` returns, over ASGI."""
    if has_jar(client):
        add_cookies(client, environ)
    stream = environ.get("wsgi.input")
    body = b""
    if stream is not None:
        # Left where it was: following a 307/308 redirect sends it again.
        where = stream.tell() if stream.seekable() else None
        body = stream.read()
        if where is not None:
            stream.seek(where)
    scope = scope_from_environ(environ)
    status, raw_headers, chunks = _run(
        call_asgi(client.application.asgi_app, scope, body)
    )
    headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers])
    # The status line Werkzeug would have sent for the code over WSGI.
    status_line = Response(status=status).status
    url = urlsplit(get_current_url(environ))
    if has_jar(client):
        update_cookies(
            client, url.hostname or "localhost", url.path, headers.getlist("Set-Cookie")
        )
    return chunks, status_line, headers
