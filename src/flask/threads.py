"""The thread pools that :mod:`flask.concurrency` runs sync code in: the
mechanism only (a queue and the threads taking work from it); which code
runs there, and which pool, is decided in :mod:`flask.concurrency`."""

from __future__ import annotations

import contextvars
import threading
import typing as t

R = t.TypeVar("R")

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio
    import concurrent.futures


class Workers:
    """A pool of daemon threads fed by one queue, grown on demand up to
    ``size`` threads: the ASGI pool (:func:`flask.concurrency.pool`) and the threads of
    background tasks under WSGI (:func:`flask.concurrency.in_background_thread`).

    Not ``ThreadPoolExecutor``: its hop took more CPU (a future with locks
    and conditions chained to an asyncio one; here the thread hands the
    result to the loop itself), and it joins its threads at exit before
    ``atexit`` handlers run, which :func:`flask.background.at_exit` must
    bound with a timeout.
    """

    def __init__(self, size: int, name: str) -> None:
        import queue

        self.size = size
        self.name = name
        self.queue: queue.SimpleQueue[t.Callable[[], None]] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        # Idle threads, less the work waiting for one (negative then).
        self.idle = 0
        # Work handed over and not finished, for drain().
        self.busy = 0
        self.lock = threading.Condition(threading.Lock())

    def _put(self, work: t.Callable[[], None]) -> None:
        with self.lock:
            self.busy += 1
            if self.idle <= 0 and len(self.threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self.threads)}", daemon=True
                )
                self.threads.append(thread)
                thread.start()
            else:
                self.idle -= 1
        self.queue.put(work)

    def _work(self) -> None:
        while True:
            work = self.queue.get()
            work()  # never raises: each kind of work hands its error on
            del work
            with self.lock:
                self.idle += 1
                self.busy -= 1
                if not self.busy:
                    self.lock.notify_all()

    def submit(self, func: t.Callable[[], R]) -> concurrent.futures.Future[R]:
        """Run ``func()`` in a fresh context (nothing it sets stays in the
        thread); its future."""
        from concurrent.futures import Future

        future: Future[R] = Future()
        box = [func]  # let go of before the future is set, as in hop()

        def work() -> None:
            call = box.pop()
            if future.set_running_or_notify_cancel():
                try:
                    result = contextvars.Context().run(call)
                except BaseException as e:  # handed to the future's owner
                    del call
                    future.set_exception(e)
                else:
                    del call
                    future.set_result(result)

        self._put(work)
        return future

    def hop(self, loop: asyncio.AbstractEventLoop, func: t.Callable[[], R]) -> asyncio.Future[R]:
        """Run ``func()`` in a thread; a future of ``loop`` for its result,
        set on the loop. Cancelling the future before a thread takes the
        work means it never runs, as with an executor."""
        future: asyncio.Future[R] = loop.create_future()
        # Taken out by the thread, so that what the call holds (a request's
        # context) is let go before the loop has the result, rather than
        # kept by an idle thread until its next work.
        box = [func]

        def work() -> None:
            call = box.pop()
            if future.cancelled():
                return
            try:
                outcome: tuple[bool, t.Any] = (True, call())
            except BaseException as e:  # handed to the awaiting task
                outcome = (False, e)
            del call
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:
                pass  # the loop was closed meanwhile: nobody awaits it

        self._put(work)
        return future

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until all work handed over is finished (at interpreter
        exit); whether it is."""
        with self.lock:
            return self.lock.wait_for(lambda: not self.busy, timeout)


def _settle(future: asyncio.Future[t.Any], outcome: tuple[bool, t.Any]) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    elif isinstance(value, StopIteration):
        # A future refuses StopIteration (it would end a generator silently).
        future.set_exception(RuntimeError(f"{value!r} raised in the thread pool"))
    else:
        future.set_exception(value)
