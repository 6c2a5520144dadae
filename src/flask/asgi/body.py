"""Receiving an HTTP request's body over ASGI (for :mod:`flask.asgi`):
before dispatch, in memory up to ``ASGI_SPOOL_THRESHOLD`` bytes, spooled to
a temporary file beyond it; or, for a route with ``stream_body=True``,
while the view runs (:class:`ReceiveStream`). ``MAX_CONTENT_LENGTH`` is
enforced while receiving.
"""

from __future__ import annotations

import io
import typing as t

from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.utils import get_content_length

from ..concurrency import on_loop
from ..concurrency import wait_on

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio

    from ..app import Flask
    from ..ctx import RequestContext

Message = t.MutableMapping[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]

#: Config key: request bodies larger than this many bytes are spooled to a
#: temporary file while they are received; smaller ones stay in memory.
SPOOL_CONFIG_KEY = "ASGI_SPOOL_THRESHOLD"
SPOOL_THRESHOLD = 1024 * 1024


async def receive_body(app: Flask, environ: dict[str, t.Any], receive: Receive) -> bool:
    """Receive the whole body into ``wsgi.input`` before dispatch; ``False``
    when the client disconnected first.

    ``MAX_CONTENT_LENGTH`` is enforced while receiving: a declared length
    over it is not received at all, and a chunked body stops being received
    just past it. Werkzeug then raises 413 (through the app's error
    handlers) when the app reads the body, as under WSGI.
    """
    declared = environ.get("CONTENT_LENGTH")
    limit: int | None = app.config["MAX_CONTENT_LENGTH"]
    # A declared length is read as Werkzeug reads it ("5 " is 5, an invalid
    # one 0), so the app sees the body it would under WSGI; only a request
    # without one is read to its end (wsgi.input_terminated).
    length = None if declared is None else get_content_length(declared)
    # Read to its end only a body the protocol frames: chunked, or HTTP/2
    # and later. Without a length or chunking Werkzeug reads no body under
    # WSGI, and neither does the app here (a transfer coding other than
    # chunked, which servers refuse anyway).
    open_ended = length is None and (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        or environ["SERVER_PROTOCOL"] >= "HTTP/2"
    )
    if limit is not None and length is not None and length > limit:
        environ["wsgi.input"] = io.BytesIO()
        return True
    message = await receive()
    if message["type"] != "http.request":
        return False
    chunk: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        # The common case: the whole body in one message.
        if open_ended and chunk:
            environ["wsgi.input_terminated"] = True
            if limit is not None and len(chunk) > limit:
                environ["wsgi.input"] = _TooLarge()
                return True
        environ["wsgi.input"] = io.BytesIO(chunk)
        return True
    threshold: int = app.config.get(SPOOL_CONFIG_KEY, SPOOL_THRESHOLD)
    chunks = [chunk]
    size = len(chunk)
    spool: t.IO[bytes] | None = None
    more = True
    while True:
        if spool is None and size > threshold:
            import tempfile

            spool = tempfile.TemporaryFile()
            spool.writelines(chunks)
            chunks = []
        if not more or (limit is not None and size > limit):
            break
        message = await receive()
        if message["type"] != "http.request":
            if spool is not None:
                spool.close()
            return False
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if spool is None:
            chunks.append(chunk)
        else:
            spool.write(chunk)
    if limit is not None and size > limit:
        # Werkzeug's limited stream would silently cut the body at the
        # limit; this one makes reading it a 413.
        if spool is not None:
            spool.close()
        environ["wsgi.input"] = _TooLarge()
    elif spool is None:
        environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    else:
        spool.seek(0)
        environ["wsgi.input"] = spool
    if open_ended:
        environ["wsgi.input_terminated"] = True
    return True


class _TooLarge(io.RawIOBase):
    """The body of a request that went over ``MAX_CONTENT_LENGTH`` while
    it was received: reading it raises 413, as Werkzeug does for a
    declared length over the limit."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        raise RequestEntityTooLarge()


# -- streamed to the view (a route with ``stream_body=True``) ---------------------


async def receive_for_view(app: Flask, ctx: RequestContext, receive: Receive) -> bool:
    """For an app with ``stream_body`` routes, once the URL is matched: hand
    a streaming route's view a :class:`ReceiveStream`, receive any other
    request's body first as usual (:func:`receive_body`)."""
    environ = ctx.request.environ
    rule = ctx.request.url_rule
    if rule is None or not getattr(rule, "stream_body", False):
        return await receive_body(app, environ, receive)
    import asyncio

    if environ.get("CONTENT_LENGTH") is None and (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        or environ["SERVER_PROTOCOL"] >= "HTTP/2"
    ):
        environ["wsgi.input_terminated"] = True
    environ["wsgi.input"] = ReceiveStream(receive, asyncio.get_running_loop(), app.config["MAX_CONTENT_LENGTH"])
    return True


class ReceiveStream(io.RawIOBase):
    """A request body read from ASGI ``receive`` while it arrives.

    Async code iterates :meth:`chunks` on the loop (what
    :meth:`flask.Request.stream_chunks` does); sync code in the pool reads
    it as a file (``request.stream``), each chunk fetched from the loop.
    Past ``limit`` bytes reading raises 413; a client gone raises 400
    (``ClientDisconnected``).
    """

    def __init__(
        self, receive: Receive, loop: asyncio.AbstractEventLoop, limit: int | None
    ) -> None:
        self._receive = receive
        self._loop = loop
        self._limit = limit
        self._more = True
        self._received = 0
        self._left = b""

    def readable(self) -> bool:
        return True

    def _take(self, message: t.Mapping[str, t.Any]) -> bytes:
        """The body in one received message, counted against the limit."""
        if message["type"] != "http.request":
            self._more = False
            raise ClientDisconnected()
        chunk: bytes = message.get("body", b"")
        self._more = message.get("more_body", False)
        self._received += len(chunk)
        if self._limit is not None and self._received > self._limit:
            self._more = False
            raise RequestEntityTooLarge()
        return chunk

    async def next_chunk(self) -> bytes | None:
        """The next non-empty piece of the body, ``None`` at its end."""
        while self._more:
            chunk = self._take(await self._receive())
            if chunk:
                return chunk
        return None

    async def chunks(self) -> t.AsyncIterator[bytes]:
        """The body's pieces as they arrive."""
        left, self._left = self._left, b""
        if left:
            yield left
        # Not through next_chunk: one coroutine less per piece (an upload
        # of a GiB is 16,384 of them).
        receive = self._receive
        while self._more:
            chunk = self._take(await receive())
            if chunk:
                yield chunk

    def readinto(self, buffer: t.Any) -> int:
        if not self._left:
            if on_loop(self._loop):
                raise RuntimeError(
                    "A streamed request body cannot be read as a file on the event"
                    " loop; iterate 'request.stream_chunks()' in an async view."
                )
            chunk = wait_on(self._loop, self.next_chunk())
            if chunk is None:
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size
