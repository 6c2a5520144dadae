"""Where code runs when the app is served over ASGI: the one place that
decides it (docs/asgi.md explains the model).

- Coroutine functions (async views, hooks, handlers) run on the server's
  event loop.
- Everything else is sync code that may block, so it runs in a thread pool
  (the standard library's :class:`~concurrent.futures.ThreadPoolExecutor`),
  in a copy of the caller's context variables, so ``request``, ``session``
  and ``g`` are the caller's.
- Sync code in the pool that calls :meth:`Flask.ensure_sync` on a coroutine
  function gets it run on the same event loop (the pool thread waits),
  rather than on a new loop in yet another thread.

Under WSGI none of this is imported.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from inspect import CO_COROUTINE
from inspect import iscoroutinefunction
from types import FunctionType

R = t.TypeVar("R")

#: Environment variable that sets the number of pool threads (default: the
#: standard library's, ``min(32, cpu_count + 4)``).
THREADS_ENV = "FLASK_ASGI_THREADS"

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# The loop a pool thread is working for, while it runs a call from it.
_worker = threading.local()


def pool() -> ThreadPoolExecutor:
    """The process's thread pool, created on first use (after any fork by
    the server, so each worker process has its own)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                threads = int(os.environ.get(THREADS_ENV) or 0) or None
                _pool = ThreadPoolExecutor(threads, thread_name_prefix="flask-asgi")
    return _pool


def is_async(func: t.Callable[..., t.Any]) -> bool:
    """Whether calling ``func`` returns a coroutine to await."""
    # A plain function's code flags answer without inspect's unwrapping.
    if type(func) is FunctionType and not hasattr(func, "_is_coroutine_marker"):
        return bool(func.__code__.co_flags & CO_COROUTINE)
    return iscoroutinefunction(func)


def _in_worker(
    loop: asyncio.AbstractEventLoop,
    context: contextvars.Context,
    call: t.Callable[[], R],
) -> R:
    _worker.loop = loop
    try:
        return context.run(call)
    finally:
        _worker.loop = None


async def run_sync(func: t.Callable[..., R], /, *args: t.Any, **kwargs: t.Any) -> R:
    """Await ``func(*args, **kwargs)`` run in the thread pool, in a copy of
    the current context variables."""
    return await run_in_context(contextvars.copy_context(), func, *args, **kwargs)


async def run_in_context(
    context: contextvars.Context,
    func: t.Callable[..., R],
    /,
    *args: t.Any,
    **kwargs: t.Any,
) -> R:
    """Like :func:`run_sync`, in the given context. Successive calls with
    one context (a streamed body's chunks) see each other's context
    variable changes, as a generator pushing a context needs."""
    loop = asyncio.get_running_loop()
    call = functools.partial(func, *args, **kwargs) if args or kwargs else func
    return await loop.run_in_executor(
        pool(), _in_worker, loop, context, call
    )


async def call(func: t.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Call a user function where it belongs: await a coroutine function on
    the loop, run anything else in the pool."""
    if is_async(func):
        return await func(*args, **kwargs)
    return await run_sync(func, *args, **kwargs)


def to_async(func: t.Callable[..., R]) -> t.Callable[..., t.Coroutine[t.Any, t.Any, R]]:
    """An async wrapper running ``func`` in the pool (Blinker's
    ``send_async`` wants one for sync receivers)."""

    async def wrapper(*args: t.Any, **kwargs: t.Any) -> R:
        return await run_sync(func, *args, **kwargs)

    return functools.update_wrapper(wrapper, func)


def worker_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop the current pool thread is working for, if any."""
    return getattr(_worker, "loop", None)


def on_loop(
    loop: asyncio.AbstractEventLoop,
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, R]],
) -> t.Callable[..., R]:
    """A sync callable that runs the coroutine function ``func`` on ``loop``
    from a pool thread and waits for its result. The coroutine sees the
    calling thread's context variables."""

    def wrapper(*args: t.Any, **kwargs: t.Any) -> R:
        # The task is created in a callback scheduled from this thread, so
        # it starts from a copy of this thread's context.
        future = asyncio.run_coroutine_threadsafe(func(*args, **kwargs), loop)
        return future.result()

    return functools.update_wrapper(wrapper, func)
