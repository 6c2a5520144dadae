"""``FlaskClient.websocket``: WebSocket connections in plain sync tests.

The app runs in an event loop of its own thread (sync handlers in that
loop's thread pool), served by :func:`flask.asgi.websocket.serve_websocket`
exactly as under an ASGI server; the test talks to it through two queues.
The handshake is built by :class:`~flask.testing.EnvironBuilder` and
carries the client's cookies, so the session of earlier requests is seen.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import typing as t
from urllib.parse import quote

from .._accel.testclient import add_cookies
from .._accel.testclient import has_jar
from ..background import finish_loop_for_test
from ..background import propagates
from .connection import WebSocketDisconnect
from .testing import scope_from_environ

if t.TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from ..testing import FlaskClient

_DONE: dict[str, t.Any] = {"type": "done"}


class WebSocketRejected(Exception):
    """The app refused the handshake: with an HTTP response (``status``,
    ``headers``, ``body``; the server has ASGI's denial response extension)
    or by closing (``close_code``, 1008 for a refusal without it)."""

    def __init__(
        self,
        status: int | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        close_code: int | None = None,
    ) -> None:
        super().__init__(status if close_code is None else close_code)
        self.status = status
        self.headers = headers or []
        self.body = body
        self.close_code = close_code


class WebSocketTestSession:
    """One test connection; use it as a context manager::

        with client.websocket("/ws/chat") as ws:
            ws.send("hi")
            assert ws.receive() == "hi"
    """

    def __init__(
        self,
        client: FlaskClient,
        path: str,
        *,
        subprotocols: t.Sequence[str] = (),
        headers: t.Mapping[str, str] | None = None,
        denial_response: bool = True,
        timeout: float = 5.0,
        **builder_kwargs: t.Any,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.scope = _scope(client, path, subprotocols, headers, denial_response, builder_kwargs)
        #: The subprotocol the app accepted, and its extra accept headers.
        self.subprotocol: str | None = None
        self.accept_headers: list[tuple[str, str]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._from_app: queue.Queue[t.MutableMapping[str, t.Any]] = queue.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._to_app: asyncio.Queue[t.MutableMapping[str, t.Any]] | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._error_seen = False
        self._closed = False

    # -- the app's side, in its own thread -------------------------------------

    async def _serve(self) -> None:
        from .websocket import serve_websocket

        self._loop = asyncio.get_running_loop()
        self._to_app = asyncio.Queue()
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._ready.set()
        app = self.client.application
        try:
            await serve_websocket(app, self.scope, self._to_app.get, self._app_sent)
            # Background tasks the connection started, waited for as the
            # test client waits for a request's.
            error = await finish_loop_for_test(app)
            if error is not None and propagates(app):
                raise error
        except BaseException as e:  # handed to the test's thread
            self._error = e
        finally:
            self._from_app.put(_DONE)

    async def _app_sent(self, message: t.MutableMapping[str, t.Any]) -> None:
        self._from_app.put(message)

    # -- the test's side ---------------------------------------------------------

    def __enter__(self) -> WebSocketTestSession:
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="flask-websocket-test", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        message = self._next()
        kind = message["type"]
        if kind == "websocket.accept":
            self.subprotocol = message.get("subprotocol")
            self.accept_headers = [
                (k.decode("latin1"), v.decode("latin1")) for k, v in message.get("headers") or ()
            ]
            return self
        self._closed = True
        self._finish()
        if kind == "websocket.http.response.start":
            body = b""
            while True:
                part = self._next()
                if part["type"] != "websocket.http.response.body":
                    break
                body += part.get("body", b"")
                if not part.get("more_body"):
                    break
            headers = [(k.decode("latin1"), v.decode("latin1")) for k, v in message["headers"]]
            rejected = WebSocketRejected(message["status"], headers, body)
        elif kind == "websocket.close":
            rejected = WebSocketRejected(close_code=message.get("code", 1000))
        else:
            rejected = WebSocketRejected(close_code=1006)
        self._raise_app_error()
        raise rejected

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self.close()
        self._finish()
        if exc_type is None or issubclass(exc_type, WebSocketDisconnect):
            self._raise_app_error()

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the app."""
        if isinstance(data, str):
            self._put({"type": "websocket.receive", "text": data})
        else:
            self._put({"type": "websocket.receive", "bytes": bytes(data)})

    def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as JSON text (the app's JSON provider)."""
        self.send(self.client.application.json.dumps(obj))

    def receive(self, timeout: float | None = None) -> str | bytes:
        """The app's next message; :class:`~flask.websockets.WebSocketDisconnect`
        when the app closed the connection (or its handler ended)."""
        message = self._next(timeout)
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            return text if text is not None else message.get("bytes", b"")  # type: ignore[no-any-return]
        if kind == "websocket.close":
            self._closed = True
            self.close_code = message.get("code", 1000)
            self.close_reason = message.get("reason") or ""
            raise WebSocketDisconnect(self.close_code or 1000, self.close_reason)
        self._raise_app_error()
        raise WebSocketDisconnect(self.close_code or 1006, "The handler ended.")

    def receive_json(self, timeout: float | None = None) -> t.Any:
        """The app's next message, parsed as JSON."""
        return self.client.application.json.loads(self.receive(timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client's side."""
        if not self._closed:
            self._closed = True
            try:
                self._put({"type": "websocket.disconnect", "code": code, "reason": reason})
            except (WebSocketDisconnect, RuntimeError):
                pass  # the handler has ended already

    def _put(self, message: t.MutableMapping[str, t.Any]) -> None:
        if self._loop is None or self._to_app is None or self._loop.is_closed():
            raise WebSocketDisconnect(self.close_code or 1006, "The handler ended.")
        try:
            self._loop.call_soon_threadsafe(self._to_app.put_nowait, message)
        except RuntimeError:  # the loop closed just now
            raise WebSocketDisconnect(self.close_code or 1006, "The handler ended.") from None

    def _next(self, timeout: float | None = None) -> t.MutableMapping[str, t.Any]:
        wait = self.timeout if timeout is None else timeout
        try:
            message = self._from_app.get(timeout=wait)
        except queue.Empty:
            raise TimeoutError(f"The WebSocket handler sent nothing within {wait} s.") from None
        if message is _DONE:
            self._from_app.put(_DONE)  # every later read sees the end too
        return message

    def _finish(self) -> None:
        if self._thread is not None:
            self._thread.join(self.timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"The WebSocket handler did not end within {self.timeout} s.")

    def _raise_app_error(self) -> None:
        if self._error is not None and not self._error_seen:
            self._error_seen = True
            raise self._error


def _scope(
    client: FlaskClient,
    path: str,
    subprotocols: t.Sequence[str],
    headers: t.Mapping[str, str] | None,
    denial_response: bool,
    builder_kwargs: dict[str, t.Any],
) -> dict[str, t.Any]:
    """The ASGI scope of a handshake to ``path``, with the client's cookies:
    the ``http`` scope the test client would send for it, made a
    ``websocket`` one."""
    # The environ the client would send for a page request.
    environ = client._request_from_builder_args((path,), {"headers": headers, **builder_kwargs}).environ
    if has_jar(client):
        add_cookies(client, environ)
    scope = scope_from_environ(environ)
    del scope["method"]
    # The upgrade headers are the handshake's own, whatever the test passed.
    pairs = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-version", b"13"),
    ]
    pairs += [pair for pair in scope["headers"] if pair[0] not in (b"upgrade", b"connection")]
    if subprotocols:
        pairs.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("latin1")))
    target = (environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"]).encode("latin1")
    scope.update(
        type="websocket",
        asgi={"version": "3.0", "spec_version": "2.4"},
        scheme="wss" if scope["scheme"] == "https" else "ws",
        raw_path=quote(target).encode("latin1"),
        headers=pairs,
        client=(environ.get("REMOTE_ADDR", "127.0.0.1"), 50000),
        subprotocols=list(subprotocols),
        extensions={"websocket.http.response": {}} if denial_response else {},
    )
    return scope
