"""Sending a response over ASGI (for :mod:`flask.asgi.http`): a buffered body in
one message, a streamed one chunk by chunk (a sync iterator advanced in the
thread pool, an async one on the loop), watching for the client going away;
then closing the response, which runs ``call_on_close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import typing as t
from contextvars import Context
from contextvars import copy_context

from werkzeug.wsgi import FileWrapper

from .._accel.wrappers import has_close_callbacks
from ..concurrency import call_in
from ..concurrency import call

if t.TYPE_CHECKING:  # pragma: no cover
    from ..ctx import RequestContext
    from ..wrappers import Response

Message = t.MutableMapping[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]

#: Bytes read per pool hop when streaming a file (``send_file``).
FILE_CHUNK = 64 * 1024


# (name, value) -> the pair as ASGI sends it; bounded, as values vary.
_header_pairs: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _encoded(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    raw = (pair[0].lower().encode("latin-1"), pair[1].encode("latin-1"))
    if len(_header_pairs) < 1024:
        _header_pairs[pair] = raw
    return raw


def encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """WSGI's header list as ASGI's: lower-case names, latin-1 bytes."""
    pairs = _header_pairs
    out = []
    for pair in headers:  # a loop: a comprehension is one more frame
        out.append(pairs.get(pair) or _encoded(pair))
    return out


async def respond(ctx: RequestContext, response: Response, receive: Receive, send: Send) -> None:
    """Send a response object: a buffered body in one message, a streamed
    one chunk by chunk; then close it (``call_on_close``)."""
    environ = ctx.request.environ
    head = environ["REQUEST_METHOD"] == "HEAD"
    code = response.status_code
    headers = response.get_wsgi_headers(environ).to_wsgi_list()
    start = {
        "type": "http.response.start",
        "status": code,
        "headers": encode_headers(headers),
    }
    source = response.response
    streamed = not (head or 100 <= code < 200 or code in (204, 304))
    if streamed and not isinstance(source, (list, tuple)) and not hasattr(source, "__aiter__"):
        await _stream_sync(response, start, receive, send)  # closes it too
        return
    try:
        await send(start)
        if not streamed:
            await send({"type": "http.response.body", "body": b""})
        elif isinstance(source, (list, tuple)):
            body = b"".join(response.iter_encoded())
            await send({"type": "http.response.body", "body": body})
        else:
            await _stream_async(t.cast(t.AsyncIterator[t.Any], source), receive, send)
    finally:
        if has_close_callbacks(response) or not isinstance(source, (list, tuple)):
            await call(response.close)


async def _disconnected(receive: Receive) -> None:
    """Return when the client has gone away."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _next_chunk(chunks: t.Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


async def _send_chunk(send: Send, chunk: bytes, more: bool = True) -> bool:
    """Send a piece of a streamed body; ``False`` if the server says the
    client is gone (some raise ``OSError`` rather than report it)."""
    try:
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
    except OSError:
        return False
    return True


async def _send_last(send: Send) -> None:
    """A streamed body's last message, sent from a task of its own in an
    empty context. The request is still current here (its teardown comes
    after the last chunk), and a server that copies the context while
    sending would keep it for as long as it keeps the copy: uvicorn arms
    its keep-alive timer inside this send, with a copy held until the timer
    is due."""
    loop = asyncio.get_running_loop()
    await Context().run(loop.create_task, _send_chunk(send, b"", more=False))


async def _stream_sync(response: Response, start: Message, receive: Receive, send: Send) -> None:
    # One context for every step: a generator that pushes a context
    # (stream_with_context) pops it in the context it pushed it in.
    context = copy_context()
    source = response.response
    gone: asyncio.Future[None] | None = None
    try:
        if response.direct_passthrough:
            if type(source) is FileWrapper:
                source.buffer_size = max(source.buffer_size, FILE_CHUNK)
            chunks: t.Iterator[bytes] = await call_in(context, iter, source)
        else:
            chunks = response.iter_encoded()
        chunk = await call_in(context, _next_chunk, chunks)
        await send(start)
        gone = asyncio.ensure_future(_disconnected(receive))
        while chunk is not None:
            if gone.done():
                return
            if chunk and not await _send_chunk(send, chunk):
                return
            chunk = await call_in(context, _next_chunk, chunks)
        await _send_last(send)
    finally:
        if gone is not None:
            gone.cancel()
        # Close the body (and run call_on_close) in the context it ran in.
        await call_in(context, response.close)


async def _stream_async(source: t.AsyncIterator[t.Any], receive: Receive, send: Send) -> None:
    gone = asyncio.ensure_future(_disconnected(receive))
    sending = asyncio.ensure_future(_send_all(source, send))
    try:
        await asyncio.wait((gone, sending), return_when=asyncio.FIRST_COMPLETED)
        if sending.done():
            sending.result()
    finally:
        gone.cancel()
        if not sending.done():
            # The client went away while the iterator waits (an event
            # stream between events): cancel it there, so its finally
            # blocks run now rather than at its next chunk.
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def _send_all(source: t.AsyncIterator[t.Any], send: Send) -> None:
    async for chunk in source:
        if isinstance(chunk, str):
            chunk = chunk.encode()
        if chunk and not await _send_chunk(send, chunk):
            return
    await _send_last(send)
