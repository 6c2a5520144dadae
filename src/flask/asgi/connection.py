"""The connection objects behind ``flask.websocket``.

:class:`WebSocket` speaks ASGI's websocket messages for an ``async def``
handler; :class:`SyncWebSocket` gives a plain ``def`` handler, which runs in
the thread pool, the same methods as blocking calls into the event loop.
Both read the handshake through the connection's :class:`~flask.Request`.

The per-message path (``receive``/``send``) is kept to a state check, the
ASGI call and a size check: an echo round trip is two of them.
"""

from __future__ import annotations

import asyncio
import typing as t

from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import Rule

from ..concurrency import spawn
from ..concurrency import wait_on
from .response import encode_headers

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask
    from ..wrappers import Request

    Message = t.MutableMapping[str, t.Any]
    Receive = t.Callable[[], t.Awaitable[Message]]
    Send = t.Callable[[Message], t.Awaitable[None]]

T = t.TypeVar("T")
_CONNECTING, _OPEN, _CLOSED = 0, 1, 2
_NO_LIMIT = 1 << 62
# WebSocket._sends while a receive() waits: no send reads ahead meanwhile.
_WAITING = -(1 << 62)
#: ``WEBSOCKET_MAX_MESSAGE_SIZE`` when the config does not set it. The
#: WebSocket keys are read with defaults rather than added to
#: ``default_config``, which stays exactly Flask 3.1's.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
#: How many client messages a connection reads ahead, at most, for a
#: handler that sends without receiving (:meth:`WebSocket.send`).
READ_AHEAD = 64
# Close codes an endpoint may send (RFC 6455 7.4, IANA's registry); 1004-1006
# and 1015 are reserved, 3000-4999 are for libraries and apps.
_SENDABLE_CODES = frozenset((1000, 1001, 1002, 1003, *range(1007, 1015)))


class WebSocketDisconnect(Exception):
    """Raised by ``receive()`` (and ``send()``) once the connection is
    closed: by the client (its close ``code``, 1005 when it gave none, 1006
    when the transport broke), or by the server after a message larger than
    ``WEBSOCKET_MAX_MESSAGE_SIZE`` (1009).

    A handler may catch it to clean up; left uncaught it simply ends the
    handler, is not logged, and teardown functions see no error.
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class _FromRequest(t.Generic[T]):
    """A read-only attribute of a connection that is its handshake
    request's attribute of the same name. A data descriptor, as a property
    is: assigning raises (type checkers reject it too), and autodoc shows
    its docstring."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @t.overload
    def __get__(self, obj: None, owner: type | None = None) -> _FromRequest[T]: ...

    @t.overload
    def __get__(self, obj: _Handshake, owner: type | None = None) -> T: ...

    def __get__(self, obj: _Handshake | None, owner: type | None = None) -> T | _FromRequest[T]:
        if obj is None:
            return self
        return t.cast(T, getattr(obj.request, self.name))

    def __set__(self, obj: _Handshake, value: t.NoReturn) -> None:
        raise AttributeError(f"{self.name!r} is read-only")


class _Handshake:
    """What the handshake said, shared by both flavours of connection."""

    request: Request
    scope: t.Mapping[str, t.Any]

    path = _FromRequest[str]("The requested path, without the application root.")
    full_path = _FromRequest[str]("The path and query string.")
    host = _FromRequest[str]("The Host header.")
    args = _FromRequest[MultiDict[str, str]]("The query string arguments.")
    headers = _FromRequest[Headers]("The handshake's request headers.")
    cookies = _FromRequest[ImmutableMultiDict[str, str]]("The cookies sent with the handshake.")
    view_args = _FromRequest[dict[str, t.Any] | None]("The values of the URL rule's variable parts.")
    url_rule = _FromRequest[Rule | None]("The matched URL rule.")
    endpoint = _FromRequest[str | None]("The matched endpoint.")
    blueprint = _FromRequest[str | None]("The name of the matched endpoint's blueprint.")
    remote_addr = _FromRequest[str | None]("The client's address.")

    @property
    def url(self) -> str:
        """The full URL of the handshake, with the ``ws``/``wss`` scheme."""
        return f"{self.scheme}://{self.request.host}{self.request.script_root}{self.request.full_path.rstrip('?')}"

    @property
    def scheme(self) -> str:
        """``"ws"`` or ``"wss"``."""
        return "wss" if self.request.scheme in ("https", "wss") else "ws"

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols") or ())


class WebSocket(_Handshake):
    """One WebSocket connection, as ``flask.websocket`` in an async handler.

    The connection is accepted on the first ``send`` or ``receive`` unless
    the handler calls :meth:`accept` itself (to pick a subprotocol or add
    headers), returns a response, or raises first (the handshake is then
    refused, see ``docs/websockets.md``).
    """

    def __init__(
        self, app: Flask, scope: t.Mapping[str, t.Any], receive: Receive, send: Send, request: Request
    ) -> None:
        self.app = app
        self.scope = scope
        self.request = request
        self._receive = receive
        self._send = send
        self._state = _CONNECTING
        self._accepted = False
        self._close_code = 1000
        limit = app.config.get("WEBSOCKET_MAX_MESSAGE_SIZE", DEFAULT_MAX_MESSAGE_SIZE)
        self.max_message_size: int | None = limit
        self._limit = _NO_LIMIT if limit is None else int(limit)
        # A str of at most this many characters cannot pass the limit in
        # UTF-8 (4 bytes a character), so most texts are never encoded.
        self._text_limit = self._limit // 4
        #: The subprotocol picked at accept, if any.
        self.subprotocol: str | None = None
        self._sync: SyncWebSocket | None = None
        # Sends since the handler last received (_WAITING while a receive()
        # waits), and the messages read ahead for a handler that only sends
        # (see send()), with the disconnect among them once seen.
        self._sends = 0
        self._ahead: asyncio.Queue[Message | BaseException] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._gone: Message | None = None
        # Bytes read ahead and not yet received; set when the handler takes some.
        self._held = 0
        self._drained: asyncio.Event  # made with _ahead

    @property
    def accepted(self) -> bool:
        """Whether the handshake was accepted (even if closed since)."""
        return self._accepted

    @property
    def connected(self) -> bool:
        """Whether messages can still be exchanged."""
        return self._state == _OPEN

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: t.Mapping[str, str] | t.Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, optionally with one of :attr:`subprotocols`
        and extra response headers."""
        if self._state != _CONNECTING:
            raise RuntimeError("The WebSocket connection was already accepted or closed.")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            # Servers differ (one raises a bare Exception, one sends it and
            # the client drops the connection): say what is wrong, here.
            raise ValueError(
                f"Subprotocol {subprotocol!r} was not offered by the client"
                f" (it offered {self.subprotocols}); a server may only accept"
                " one of those (RFC 6455, 4.2.2)."
            )
        message: dict[str, t.Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = encode_headers(Headers(headers).to_wsgi_list())
        await self._send(message)
        self._state = _OPEN
        self._accepted = True
        self.subprotocol = subprotocol

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for a text frame, ``bytes`` for binary.

        Raises :class:`WebSocketDisconnect` once the connection is closed.
        """
        if self._state != _OPEN:
            await self._ready()
        ahead = self._ahead
        if ahead is None:
            self._sends = _WAITING
            try:
                message = await self._receive()
            finally:
                self._sends = 0
        else:
            # Read ahead already: take the messages from there, in order.
            got = await ahead.get()
            if isinstance(got, BaseException):
                self._state = _CLOSED
                self._close_code = 1006
                raise got
            message = got
            self._held -= _size(message)
            self._drained.set()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                if len(text) > self._text_limit:
                    await self._check_size(len(text.encode()))
                return text  # type: ignore[no-any-return]
            data = message.get("bytes") or b""
            if len(data) > self._limit:
                await self._check_size(len(data))
            return data
        if message["type"] == "websocket.disconnect":
            self._state = _CLOSED
            self._close_code = message.get("code") or 1005
            raise WebSocketDisconnect(self._close_code, message.get("reason") or "")
        raise RuntimeError(f"Unexpected ASGI message {message['type']!r}.")

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if self._state != _OPEN:
            await self._ready()
        if type(data) is str:
            message: dict[str, t.Any] = {"type": "websocket.send", "text": data}
        elif isinstance(data, (bytes, bytearray, memoryview)):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        elif isinstance(data, str):  # a subclass (Markup, ...)
            message = {"type": "websocket.send", "text": str(data)}
        else:
            raise TypeError(f"WebSocket messages are str or bytes, not {type(data).__name__}.")
        sends = self._sends
        if sends > 0:
            # Sent already since the last receive, none waiting: read ahead.
            self._read_ahead()
        self._sends = sends + 1
        try:
            await self._send(message)
        except OSError:
            # ASGI servers raise an OSError for a send after the client left.
            self._state = _CLOSED
            self._close_code = 1006
            raise WebSocketDisconnect(1006, "The client is gone.") from None

    async def receive_json(self) -> t.Any:
        """The next message, parsed with the app's JSON provider.

        A message that is not JSON raises
        :exc:`~werkzeug.exceptions.BadRequest`, as ``request.get_json()``
        does: the client's fault, which closes the connection with 1008
        unless the handler catches it.
        """
        data = await self.receive()
        try:
            return self.app.json.loads(data)
        except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
            raise BadRequest(f"Failed to decode JSON object: {e}") from e

    async def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message (the app's JSON provider)."""
        await self.send(self.app.json.dumps(obj))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection. Before accept, this refuses the handshake
        (servers then answer 403). Closing twice does nothing."""
        if self._state == _CLOSED:
            return
        if code not in _SENDABLE_CODES and not 3000 <= code < 5000:
            raise ValueError(f"{code} is not a close code an endpoint may send (RFC 6455, 7.4).")
        if len(reason) > 30 and len(reason.encode()) > 123:
            # It travels in a control frame, at most 125 bytes with the code.
            raise ValueError("A WebSocket close reason is at most 123 bytes in UTF-8 (RFC 6455, 5.5).")
        self._state = _CLOSED
        self._close_code = code
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            pass  # the client is already gone: closed either way

    def _read_ahead(self) -> None:
        """Read the client's messages ahead, for a handler that sends twice
        without receiving and has no receive() waiting; raise
        :class:`WebSocketDisconnect` once a disconnect was read.

        Servers on ASGI spec 2.3 (granian) drop a send after the client has
        left instead of raising, and tell of the disconnect only through
        ``receive``: a handler that only sends would never learn of it, and
        would run (and hold its request context) until the process ends.
        Read ahead, the disconnect makes the next send() raise
        :class:`WebSocketDisconnect`. Client messages wait, in order, for
        the handler's receive(): :data:`READ_AHEAD` of them at most, and no
        more once they hold over ``WEBSOCKET_MAX_MESSAGE_SIZE`` bytes (so a
        client cannot make the connection buffer more than about two
        messages' worth); past that the client is held back as before."""
        gone = self._gone
        if gone is not None:
            self._state = _CLOSED
            self._close_code = gone.get("code") or 1005
            raise WebSocketDisconnect(self._close_code, gone.get("reason") or "")
        if self._ahead is not None:
            return
        self._drained = asyncio.Event()
        self._ahead = asyncio.Queue(READ_AHEAD)
        # In a context of its own: it may be started from another
        # connection's handler (a broadcast), whose context it must not keep.
        self._reader = spawn(self._reading, self._ahead)

    async def _reading(self, ahead: asyncio.Queue[Message | BaseException]) -> None:
        budget = self._limit if self._limit != _NO_LIMIT else DEFAULT_MAX_MESSAGE_SIZE
        try:
            while True:
                message = await self._receive()
                if message["type"] != "websocket.receive":
                    self._gone = message  # seen by send() even with the queue full
                    await ahead.put(message)
                    return
                await ahead.put(message)
                self._held += _size(message)
                while self._held > budget:
                    self._drained.clear()
                    await self._drained.wait()
        except Exception as e:  # the server's receive failed: raised by receive()
            self._gone = {"type": "websocket.disconnect", "code": 1006}
            await ahead.put(e)

    def stop_reading(self) -> None:
        """At the end of the connection: stop reading ahead."""
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _ready(self) -> None:
        # Implicit accept on first use; a closed connection raises.
        if self._state == _CONNECTING:
            await self.accept()
        elif self._state == _CLOSED:
            raise WebSocketDisconnect(self._close_code, "The connection is closed.")

    async def _check_size(self, size: int) -> None:
        if size <= self._limit:
            return
        self.app.logger.warning(
            "WebSocket %s: closed with 1009, a message of %d bytes is over"
            " WEBSOCKET_MAX_MESSAGE_SIZE (%d).",
            self.request.path,
            size,
            self._limit,
        )
        await self.close(1009, "Message too big")
        raise WebSocketDisconnect(1009, "Message too big")

    def blocking(self, loop: asyncio.AbstractEventLoop) -> SyncWebSocket:
        """The blocking flavour of this connection, for a thread."""
        if self._sync is None:
            self._sync = SyncWebSocket(self, loop)
        return self._sync


def _size(message: Message) -> int:
    """The length of a received message's payload (characters of a text)."""
    return len(message.get("text") or message.get("bytes") or b"")


class SyncWebSocket(_Handshake):
    """``flask.websocket`` in a plain ``def`` handler, which runs in the
    thread pool: the methods of :class:`WebSocket`, blocking.

    It is also passed as the first argument to a handler whose first
    parameter is not a URL variable, as Flask-Sock does, so such handlers
    port by changing the decorator.
    """

    def __init__(self, conn: WebSocket, loop: asyncio.AbstractEventLoop) -> None:
        self.conn = conn
        self.request = conn.request
        self.scope = conn.scope
        self._loop = loop

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol picked at accept, if any."""
        return self.conn.subprotocol

    @property
    def accepted(self) -> bool:
        """Whether the handshake was accepted."""
        return self.conn.accepted

    @property
    def connected(self) -> bool:
        """Whether messages can still be exchanged."""
        return self.conn.connected

    def _wait(self, coro: t.Coroutine[t.Any, t.Any, t.Any], timeout: float | None = None) -> t.Any:
        return wait_on(self._loop, coro, timeout)

    def accept(
        self,
        subprotocol: str | None = None,
        headers: t.Mapping[str, str] | t.Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake (see :meth:`WebSocket.accept`)."""
        self._wait(self.conn.accept(subprotocol, headers))

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; ``None`` if ``timeout`` seconds pass first."""
        try:
            return wait_on(self._loop, self.conn.receive(), timeout)
        except TimeoutError:
            return None

    def send(self, data: str | bytes) -> None:
        """Send a text or binary message."""
        self._wait(self.conn.send(data))

    def receive_json(self) -> t.Any:
        """The next message, parsed as JSON."""
        return self._wait(self.conn.receive_json())

    def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message."""
        self._wait(self.conn.send_json(obj))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (see :meth:`WebSocket.close`)."""
        self._wait(self.conn.close(code, reason))
