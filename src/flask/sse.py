"""Server-Sent Events: :class:`EventStream`, a response whose body is a
stream of events, and :class:`ServerSentEvent`, one event with its fields.

Framing follows the WHATWG HTML standard's ``text/event-stream`` format.
Under ASGI an async generator of events runs on the event loop and holds
no thread; under WSGI (and for a sync generator under ASGI) the generator
runs on a thread of its own, one per client. See ``docs/streaming.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import select
import socket
import threading
import typing as t
from contextvars import Context
from contextvars import copy_context
from functools import partial

from .ctx import ContextHold
from .globals import _cv_app
from .globals import _cv_request
from .json import dumps as _flask_dumps
from .wrappers import Response

#: Seconds without an event after which a keep-alive comment is sent, when
#: neither the constructor nor ``EventStream.default_interval`` says.
DEFAULT_INTERVAL = 15.0

#: The comment sent when the stream opens (so the headers go out at once)
#: and after each interval without an event. Clients ignore comments.
KEEP_ALIVE = b": keep-alive\n\n"

# The standard's line breaks: CRLF, LF or CR (not str.splitlines' set).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_END: t.Any = object()
# Linux's "the peer closed its end", for a descriptor polled without reading.
_POLLRDHUP: int = getattr(select, "POLLRDHUP", 0)


class ServerSentEvent:
    """One event: ``data`` (a string, or anything else the app's JSON
    provider encodes), and the optional ``event`` type, ``id`` (what the
    client sends back as ``Last-Event-ID``) and ``retry`` (the client's
    reconnection delay, in milliseconds).

    .. beyond-flask:: One Server-Sent Event, with its fields.
    """

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self,
        data: t.Any = "",
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
    ) -> None:
        for name, value in (("event", event), ("id", id)):
            if value is not None and _LINE_BREAK.search(str(value)):
                raise ValueError(f"An event's {name} cannot contain a line break.")
        if id is not None and "\0" in str(id):
            raise ValueError("An event's id cannot contain NULL (clients ignore it).")
        if retry is not None and (type(retry) is not int or retry < 0):
            raise ValueError("An event's retry is a number of milliseconds, an int >= 0.")
        self.data = data
        self.event = event
        self.id = None if id is None else str(id)
        self.retry = retry

    def encode(self, dumps: t.Callable[[t.Any], str] = _flask_dumps) -> bytes:
        """The event as it goes on the wire: one ``data:`` line per line of
        the data, then the other fields, then a blank line."""
        data = self.data if isinstance(self.data, str) else dumps(self.data)
        lines = []
        if self.event is not None:
            lines.append(f"event: {self.event}")
        lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines.append("\n")
        return "\n".join(lines).encode()

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__ if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


def encode_event(item: t.Any, dumps: t.Callable[[t.Any], str] = _flask_dumps) -> bytes:
    """Frame what a generator yielded: a :class:`ServerSentEvent`, or the
    data of one (a string, or a value for ``dumps``)."""
    event = item if isinstance(item, ServerSentEvent) else ServerSentEvent(item)
    return event.encode(dumps)


class Cancellable(t.Protocol):
    """What :meth:`Clock.call_at` returns (an ``asyncio.TimerHandle``)."""

    def cancel(self) -> None: ...


class Clock:
    """How an event stream tells that ``interval`` seconds passed without
    an event, so a keep-alive is due: under WSGI it waits on the next
    event with a timeout (:meth:`wait`); over ASGI it reads the time and
    sets timers (:meth:`time`, :meth:`call_at`). The default is the real
    time of the event loop; tests pass their own to decide when an interval
    has passed.
    """

    def wait(self, ready: threading.Event, timeout: float) -> bool:
        """Wait for ``ready``; ``False`` if ``timeout`` passed first."""
        return ready.wait(timeout)

    def time(self) -> float:
        """Now, in the event loop's time (over ASGI)."""
        return asyncio.get_running_loop().time()

    def call_at(self, when: float, callback: t.Callable[[], None]) -> Cancellable:
        """Call ``callback`` on the event loop at ``when`` (in :meth:`time`'s
        terms); the result's ``cancel()`` calls it off."""
        return asyncio.get_running_loop().call_at(when, callback)


class EventStream(Response):
    """A ``text/event-stream`` response: return it from a view with a
    generator (sync or async) of events.

    Each item the generator yields is an event: a :class:`ServerSentEvent`,
    a string (the data; one ``data:`` line per line), or any other value,
    encoded as JSON with the app's JSON provider; ``None`` sends nothing (a
    sync generator waiting for data with a timeout yields it, so that a
    closed stream can stop it). A keep-alive comment goes
    out when the stream opens and whenever ``interval`` seconds (default
    :attr:`default_interval`) pass without an event. The generator runs
    with the request's context (as with :func:`~flask.stream_with_context`);
    when the client goes away it is closed, so its ``finally`` blocks and
    the request's teardown run: over ASGI at once, under WSGI when a write
    fails (a keep-alive at the latest). :attr:`flask.Request.last_event_id`
    tells where a reconnecting client left off.

    .. beyond-flask:: Server-Sent Events as a response type.
    """

    #: Seconds without an event before a keep-alive comment is sent.
    default_interval: float = DEFAULT_INTERVAL

    def __init__(
        self,
        events: t.Iterable[t.Any] | t.AsyncIterable[t.Any],
        *,
        interval: float | None = None,
        clock: Clock | None = None,
        status: int | None = None,
        headers: t.Any = None,
    ) -> None:
        interval = self.default_interval if interval is None else interval
        if not interval > 0:
            raise ValueError("The keep-alive interval must be a positive number of seconds.")
        app_ctx = _cv_app.get(None)
        dumps = app_ctx.app.json.dumps if app_ctx is not None else _flask_dumps
        # Under WSGI the request's contexts are popped when the view returns:
        # keep them for the generator, and its teardown for the stream's end.
        req_ctx = _cv_request.get(None)
        hold = gone = None
        if req_ctx is not None:
            hold = ContextHold()
            gone = _disconnect_probe(req_ctx.request.environ)
        body: _Frames = (_AsyncFrames if hasattr(events, "__aiter__") else _Frames)(
            events, interval, clock or Clock(), dumps, hold, gone
        )
        super().__init__(body, status=status, headers=headers, mimetype="text/event-stream")
        self.headers["Cache-Control"] = "no-cache"
        # nginx buffers proxied responses unless told not to.
        self.headers["X-Accel-Buffering"] = "no"


class _Pump:
    """Runs a generator on a thread of its own, one item at a time, so the
    thread serving the client can send keep-alives while it blocks."""

    def __init__(self, step: t.Callable[[], t.Any], finish: t.Callable[[BaseException | None], None]) -> None:
        self._step = step
        self._finish = finish
        self._wanted = threading.Event()
        self.ready = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._stopped = self._busy = False
        self._item: t.Any = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="flask-event-stream", daemon=True).start()

    def request(self) -> None:
        self.ready.clear()
        self._wanted.set()

    def take(self) -> t.Any:
        if self._error is not None:
            raise self._error
        return self._item

    def stop(self) -> None:
        """Stop after the current step. When the generator is not inside
        one (it ended, or waits to be asked), wait for it to be closed and
        the request torn down, so that is done when the response is."""
        with self._lock:
            self._stopped = True
            busy = self._busy
        self._wanted.set()
        if not busy:
            self._ended.wait()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            while True:
                self._wanted.wait()
                with self._lock:
                    if self._stopped:
                        return
                    self._wanted.clear()
                    self._busy = True
                try:
                    item = self._step()
                    # None is "nothing yet": a chance to stop the generator.
                    while item is None and not self._stopped:
                        item = self._step()
                    self._item = item
                except BaseException as e:
                    error = self._error = e
                    return
                finally:
                    with self._lock:
                        self._busy = False
                    self.ready.set()
                if self._item is _END:
                    return
        finally:
            try:
                self._finish(error)
            finally:
                self._ended.set()


class _Frames:
    """The body of an :class:`EventStream` over a sync iterable."""

    def __init__(
        self,
        events: t.Any,
        interval: float,
        clock: Clock,
        dumps: t.Callable[[t.Any], str],
        hold: ContextHold | None,
        gone: t.Callable[[], bool] | None = None,
    ) -> None:
        self._events = events
        self._gone = gone
        self._interval = interval
        self._clock = clock
        self._dumps = dumps
        self._hold = hold
        self._run_context: Context = hold.context if hold is not None else copy_context()
        self._active: t.Any = None
        # Whether iteration began: from then on, the end of the iteration
        # closes the generator and releases the request.
        self._started = self._closed = False

    def __iter__(self) -> t.Iterator[bytes]:
        self._active = frames = self._from_pump()
        return frames

    def _start_pump(self) -> _Pump:
        source = iter(self._events)
        step = partial(self._run_context.run, next, source, _END)
        return _Pump(step, partial(self._finish, source))

    def _from_pump(self) -> t.Iterator[bytes]:
        self._started = True
        pump = self._start_pump()
        clock, interval, ready = self._clock, self._interval, pump.ready
        try:
            yield KEEP_ALIVE
            while True:
                pump.request()
                while not clock.wait(ready, interval):
                    if self._closed or (self._gone is not None and self._gone()):
                        return
                    yield KEEP_ALIVE
                if self._closed:
                    return
                item = pump.take()
                if item is _END:
                    return
                yield encode_event(item, self._dumps)
        finally:
            pump.stop()

    def _finish(self, source: t.Any, error: BaseException | None) -> None:
        # On the pump's thread, once the generator is not running.
        try:
            close = getattr(source, "close", None)
            if close is not None:
                self._run_context.run(close)
        finally:
            self._release(error)

    def _release(self, error: BaseException | None) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.release(error)

    def close(self) -> None:
        """Stop the stream: the generator is closed, then the request is
        torn down (once), on the generator's thread."""
        active, self._active = self._active, None
        self._closed = True
        if active is not None and hasattr(active, "close"):
            try:
                active.close()
            except ValueError:
                # Running on another thread (a server cancelled mid-chunk):
                # it sees _closed when its wait ends, and stops there.
                pass
        if not self._started and self._hold is not None:
            self._finish(self._events, None)

    def __del__(self) -> None:
        # Dropped unsent (an after_request hook replaced the response):
        # the request's teardown still runs.
        if not self._started and self._hold is not None:
            self._finish(self._events, None)


def _disconnect_probe(environ: t.Mapping[str, t.Any]) -> t.Callable[[], bool] | None:
    """How to tell that the client closed its end, where the WSGI server
    offers a way; checked at each keep-alive, before it is written."""
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if type(sock) is socket.socket:  # a TLS socket cannot peek
        return partial(_closed_by_peer, sock)
    if "uwsgi.version" in environ:
        # uWSGI names the request's connection by its file descriptor; it
        # stays open while the response is sent, the only time this runs.
        try:
            fd = int(importlib.import_module("uwsgi").connection_fd())
        except (ImportError, AttributeError, TypeError, ValueError, OSError):
            return None
        return partial(_fd_closed_by_peer, fd) if fd >= 0 and _POLLRDHUP else None
    # Waitress answers this when run with channel_request_lookahead > 0
    # (it then reads the connection while the app runs); else always False.
    probe: t.Any = environ.get("waitress.client_disconnected")
    return (lambda: bool(probe())) if callable(probe) else None


def _fd_closed_by_peer(fd: int) -> bool:
    # poll() on the bare descriptor: a socket object made around it could
    # change its blocking mode (socket.setdefaulttimeout) under the server.
    poller = select.poll()
    poller.register(fd, select.POLLIN | _POLLRDHUP)
    try:
        return any(events & (_POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL)
                   for _, events in poller.poll(0))
    except OSError:
        return True


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether the client closed its end. A write after that still
    succeeds once (the peer answers it with a reset), so without this a
    disconnect is noticed one keep-alive later."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class _AsyncFrames(_Frames):
    """The body over an async iterable: on the event loop under ASGI; on a
    thread running its own loop under WSGI."""

    def _start_pump(self) -> _Pump:
        loop = asyncio.new_event_loop()
        source = aiter(self._events)

        async def step() -> t.Any:
            return await anext(source, _END)

        def finish(error: BaseException | None) -> None:
            try:
                aclose = getattr(source, "aclose", None)
                if aclose is not None:
                    self._run_context.run(loop.run_until_complete, aclose())
            finally:
                loop.close()
                self._release(error)

        return _Pump(partial(self._run_context.run, lambda: loop.run_until_complete(step())), finish)

    def __aiter__(self) -> t.AsyncIterator[bytes]:
        self._active = frames = self._on_loop()
        return frames

    async def _on_loop(self) -> t.AsyncIterator[bytes]:
        self._started = True
        source = aiter(self._events)
        loop = asyncio.get_running_loop()
        clock, interval = self._clock, self._interval
        # The generator runs in a task of its own, so a disconnect can cancel
        # it where it waits. It hands each item over in ``box`` and waits
        # for the sender to take it; the sender waits on a plain future
        # (``wake``) that the producer or the keep-alive timer resolves. One
        # timer per interval, re-armed from when the last frame went out,
        # instead of a timed wait per event (asyncio.wait cost 8 us an event,
        # a third of a broadcast's time per connection).
        box: list[t.Any] = []
        wake: list[asyncio.Future[None] | None] = [None]
        taken: list[asyncio.Future[None]] = [loop.create_future()]

        def rouse() -> None:
            waiter = wake[0]
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        async def hand(item: t.Any, error: BaseException | None) -> None:
            box.append((item, error))
            rouse()
            await taken[0]

        async def produce() -> None:
            try:
                async for item in source:
                    if item is not None:
                        await hand(item, None)
            except Exception as e:
                await hand(_END, e)
            else:
                await hand(_END, None)

        # When the last frame went out, and whether a keep-alive is due.
        last = [0.0]
        due = [False]
        timer: list[t.Any] = [None]

        def expire() -> None:
            when = last[0] + interval
            if clock.time() < when:  # a frame went out since: wait the rest
                timer[0] = clock.call_at(when, expire)
                return
            timer[0] = None
            due[0] = True
            rouse()

        producer = asyncio.ensure_future(produce())
        error: BaseException | None = None
        try:
            yield KEEP_ALIVE
            while True:
                last[0] = clock.time()
                if timer[0] is None:
                    timer[0] = clock.call_at(last[0] + interval, expire)
                if not box and not due[0]:
                    waiter = wake[0] = loop.create_future()
                    await waiter
                    wake[0] = None
                due[0] = False
                if not box:
                    yield KEEP_ALIVE
                    continue
                item, error = box.pop()
                done, taken[0] = taken[0], loop.create_future()
                done.set_result(None)
                if error is not None:
                    raise error
                if item is _END:
                    return
                yield encode_event(item, self._dumps)
        finally:
            if timer[0] is not None:
                timer[0].cancel()
            # A disconnect cancels the sender: cancel the generator where it
            # waits, so its finally blocks run now.
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
            aclose = getattr(source, "aclose", None)
            try:
                if aclose is not None:
                    await aclose()
            finally:
                self._release(error)

    async def aclose(self) -> None:
        """Stop the stream on the event loop (ASGI)."""
        active = self._active
        if active is not None and hasattr(active, "aclose"):
            self._active = None
            await active.aclose()
        self.close()
