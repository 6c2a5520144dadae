"""Where code runs: the one module that decides it (docs/asgi.md explains
the model). No other module asks whether a function is a coroutine
function or hands work to a thread; ``tests/test_architecture.py`` checks.

Under WSGI everything runs in the server's thread: :func:`ensure_sync`
(behind :meth:`Flask.ensure_sync`) gives a coroutine function a sync
wrapper.

Under ASGI:

- coroutine functions (async views, hooks, handlers) are awaited on the
  server's event loop;
- sync code may block, so it runs in a thread pool (:mod:`flask.threads`), in
  a copy of the caller's context variables, so ``request``, ``session`` and
  ``g`` are the caller's;
- sync code in the pool that calls :meth:`Flask.ensure_sync` on a
  coroutine function gets it run on the same event loop (the pool thread
  waits), rather than on a new loop in yet another thread.

The steps of a request (:mod:`flask.pipeline`) are written once, as
generators, and run by one of two drivers: :func:`run_steps` in the
caller's thread (WSGI, and the public request-path methods), or
:func:`drive` on the event loop, where each contiguous run of sync steps
goes to the pool in one hop, so that a request whose functions are all
sync costs one hop in all.

Importing this module imports neither asyncio nor the thread pool: WSGI
apps use :func:`ensure_sync` only.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import os
import sys
import threading
import typing as t
from inspect import CO_COROUTINE
from inspect import isawaitable
from inspect import iscoroutinefunction
from types import FunctionType

from .threads import Workers

R = t.TypeVar("R")

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio
    import concurrent.futures

    # One step a step generator hands to its driver: (func, args, kwargs).
    Step = tuple[t.Callable[..., t.Any], tuple[t.Any, ...], dict[str, t.Any]]
    # A step generator: yields the steps it cannot run itself, receives
    # their results (or has their errors thrown in), returns its result.
    Steps = t.Generator[Step, t.Any, R]
    Run = t.Union["InThread", "OnLoop"]
    # A background thread's result (flask.background names it this way).
    ThreadFuture = concurrent.futures.Future

    class _EnsureSync(t.Protocol):
        def async_to_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]: ...

#: Environment variable that sets the number of pool threads (default: the
#: standard library's ``ThreadPoolExecutor`` size, ``min(32, cpu_count + 4)``).
THREADS_ENV = "FLASK_ASGI_THREADS"

_pool: Workers | None = None
_pool_lock = threading.Lock()
# The loop a pool thread is working for, while it runs a call from it.
_worker = threading.local()
_NO_KWARGS: dict[str, t.Any] = {}
# What inspect.markcoroutinefunction sets on a sync function.
_MARKER = "_is_coroutine_marker"


def pool() -> Workers:
    """The process's thread pool for sync code under ASGI, created on first
    use (after any fork by the server, so each worker process has its own).
    At interpreter exit, the work handed to it is finished first."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                size = int(os.environ.get(THREADS_ENV) or 0) or min(32, (os.cpu_count() or 1) + 4)
                _pool = Workers(size, "flask-asgi")
    return _pool


@atexit.register
def _drain_at_exit() -> None:
    # This process's own pool (a forked child's parent's is forgotten).
    if _pool is not None:
        _pool.drain()


def runs_on_loop(func: t.Callable[..., t.Any]) -> bool:
    """Whether ``func`` is a coroutine function, which runs on the event
    loop (everything else runs in the pool)."""
    # A plain function's code flags answer without inspect's unwrapping
    # (which was 6% of a hello-world request); its own attributes are in
    # its __dict__, where a missing one costs no AttributeError.
    if type(func) is FunctionType and _MARKER not in func.__dict__:
        return bool(func.__code__.co_flags & CO_COROUTINE)
    return iscoroutinefunction(func)


#: The former name of :func:`runs_on_loop`.
is_async = runs_on_loop


def ensure_sync(app: _EnsureSync, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``func`` itself, or ``app.async_to_sync(func)`` for a coroutine
    function (what :meth:`Flask.ensure_sync` does)."""
    if (
        type(func) is FunctionType
        and not func.__code__.co_flags & CO_COROUTINE
        and _MARKER not in func.__dict__
    ):
        return func
    return app.async_to_sync(func) if iscoroutinefunction(func) else func


def async_to_sync(func: t.Callable[..., t.Coroutine[t.Any, t.Any, R]]) -> t.Callable[..., R]:
    """A sync callable running the coroutine function ``func`` to the end:
    on the serving event loop from an ASGI pool thread, else with
    asgiref (the 'async' extra)."""
    loop = getattr(_worker, "loop", None)
    if loop is not None:
        return _on_loop(loop, func)
    if _loop_runs_here():
        return _on_a_thread_of_its_own(func)
    runner: t.Callable[..., t.Callable[..., t.Any]] | None
    try:
        from asgiref.sync import async_to_sync as runner
    except ImportError:
        runner = None
    if runner is None:
        raise RuntimeError("Install Flask with the 'async' extra in order to use async views.")
    return runner(func)


def _loop_runs_here() -> bool:
    """Whether this thread is running an event loop (then nothing here can
    wait for a coroutine: asgiref refuses, and the loop cannot turn)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _on_a_thread_of_its_own(
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, R]],
) -> t.Callable[..., R]:
    """For sync code called on the loop's own thread (a signal sent as a
    context is pushed or popped there): the coroutine runs to its end on a
    loop of its own, on a new thread, in a copy of this context, while this
    thread waits, as it does for a sync function called here. A new thread
    rather than the pool, which may be full of work waiting for this loop."""

    def wrapper(*args: t.Any, **kwargs: t.Any) -> R:
        import asyncio

        context = contextvars.copy_context()
        outcome: list[t.Any] = []

        def run() -> None:
            try:
                outcome.append((True, context.run(asyncio.run, func(*args, **kwargs))))
            except BaseException as e:  # handed to the waiting thread
                outcome.append((False, e))

        thread = threading.Thread(target=run, name="flask-async-from-loop")
        thread.start()
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return t.cast(R, value)

    return wrapper


def _on_loop(
    loop: asyncio.AbstractEventLoop,
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, R]],
) -> t.Callable[..., R]:
    def wrapper(*args: t.Any, **kwargs: t.Any) -> R:
        # The task is created in a callback scheduled from this thread, so
        # it starts from a copy of this thread's context.
        return wait_on(loop, func(*args, **kwargs))

    return functools.update_wrapper(wrapper, func)


def serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this thread serves: the one it runs, or, in a pool
    thread, the one whose call it is running; ``None`` under WSGI."""
    loop: asyncio.AbstractEventLoop | None = getattr(_worker, "loop", None)
    if loop is not None:
        return loop
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()  # type: ignore[no-any-return]
    except RuntimeError:
        return None


def on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running ``loop`` (where waiting on it from
    a sync call would deadlock)."""
    import asyncio

    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def wait_on(
    loop: asyncio.AbstractEventLoop,
    coro: t.Coroutine[t.Any, t.Any, R],
    timeout: float | None = None,
) -> R:
    """Run ``coro`` on ``loop`` from another thread and wait for its result
    (:class:`TimeoutError` after ``timeout`` seconds, the coroutine then
    cancelled)."""
    import asyncio
    import concurrent.futures

    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError() from None


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


async def _to_pool(context: contextvars.Context, call: t.Callable[[], R]) -> R:
    import asyncio

    loop = asyncio.get_running_loop()
    return await pool().hop(loop, functools.partial(_in_worker, loop, context, call))


async def run_sync(func: t.Callable[..., R], /, *args: t.Any, **kwargs: t.Any) -> R:
    """Await ``func(*args, **kwargs)`` run in the thread pool, in a copy of
    the current context variables."""
    return await _to_pool(contextvars.copy_context(), functools.partial(func, *args, **kwargs))


async def call(func: t.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Call a function where it belongs: await a coroutine function on the
    loop, run anything else in the pool. What a sync call returns is
    awaited too when it is awaitable (an object whose ``__call__`` is a
    coroutine function, which ``runs_on_loop`` cannot see)."""
    if runs_on_loop(func):
        return await func(*args, **kwargs)
    value = await run_sync(func, *args, **kwargs)
    return (await value) if isawaitable(value) else value


def settle_sync(app: _EnsureSync, value: t.Any) -> t.Any:
    """``value``, or, when it is awaitable, what it gives once run to its
    end from sync code (``app.async_to_sync``): for the result of a
    callable whose ``__call__`` is a coroutine function."""
    if isawaitable(value):
        return app.async_to_sync(_awaited)(value)
    return value


async def call_in(
    context: contextvars.Context, func: t.Callable[..., R], /, *args: t.Any
) -> R:
    """Run the sync ``func(*args)`` in the pool, in ``context``: successive
    calls with one context (a streamed body's chunks) see each other's
    context variable changes, as a generator pushing a context needs."""
    return await _to_pool(context, functools.partial(func, *args) if args else func)


# -- the two drivers of step generators -----------------------------------------


class InThread:
    """How a step generator runs when its driver is :func:`run_steps`: every
    function is called here, a coroutine function through ``ensure_sync``."""

    __slots__ = ("here",)
    on_loop = False

    def __init__(self, ensure_sync: t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]) -> None:
        #: ``func`` as something to call right here (never ``None``: no
        #: step is yielded to this driver).
        self.here = ensure_sync


def in_thread(app: t.Any) -> InThread:
    """The :class:`InThread` run of ``app``'s steps (made once per app)."""
    run: InThread | None = app.__dict__.get("_flask_in_thread")
    if run is None:
        method = app.ensure_sync
        if getattr(method, "__func__", None) is ensure_sync:
            # Flask's own: one frame less per call than the bound method.
            method = functools.partial(ensure_sync, app)
        run = app.__dict__["_flask_in_thread"] = InThread(method)
    return run


class OnLoop:
    """How a step generator runs under :func:`drive`: ``on_loop`` tells
    whether it is advanced on the event loop now (then every function is
    yielded) or in a pool thread (then sync ones are called right there)."""

    __slots__ = ("on_loop",)

    def __init__(self) -> None:
        self.on_loop = True

    def here(self, func: t.Callable[..., R]) -> t.Callable[..., R] | None:
        """``func`` when it is sync and the generator runs in the pool."""
        if self.on_loop or runs_on_loop(func):
            return None
        return func


def call_step(run: Run, func: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> Steps[R]:
    """``yield from call_step(run, func, ...)``: call a user function where
    ``run`` says it belongs."""
    here = run.here(func)
    if here is None:
        # The driver sends func's result back.
        result: R = yield func, args, kwargs or _NO_KWARGS
        return result
    return here(*args, **kwargs)


def blocking_step(run: Run, func: t.Callable[..., R], *args: t.Any) -> Steps[R]:
    """``yield from blocking_step(run, func, ...)``: a sync framework step
    that may block (or call user code), kept off the event loop."""
    if run.on_loop:
        result: R = yield func, args, _NO_KWARGS
        return result
    return func(*args)


async def _awaited(awaitable: t.Awaitable[R]) -> R:
    return await awaitable


def settle_step(rv: t.Any) -> Steps[t.Any]:
    """``yield from settle_step(rv)``: ``rv``, or what it gives once awaited
    on the loop when it is awaitable (a sync wrapper around an async
    function returned a coroutine)."""
    if isawaitable(rv):
        rv = yield _awaited, (rv,), _NO_KWARGS
    return rv


def run_steps(steps: Steps[R]) -> R:
    """Run a step generator made with an :class:`InThread` to its end, in
    this thread (it yields nothing)."""
    try:
        step = next(steps)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    steps.close()
    raise RuntimeError(f"A step was yielded to the sync driver: {step[0]!r}")


_DONE: t.Any = object()


def _advance(steps: Steps[t.Any], value: t.Any, error: BaseException | None) -> Step:
    try:
        if error is None:
            return steps.send(value)
        return steps.throw(error)
    except StopIteration as done:
        return _DONE, done.value, _NO_KWARGS


def _pool_leg(
    steps: Steps[t.Any], run: OnLoop, enter: t.Callable[[], t.Any] | None, step: Step
) -> Step:
    """Run sync steps in this pool thread, advancing the generator here,
    until it yields a coroutine function or ends."""
    run.on_loop = False
    if enter is not None:
        enter()
    try:
        func, args, kwargs = step
        while True:
            try:
                value, error = func(*args, **kwargs), None
            except BaseException as e:  # thrown into the steps, as on the loop
                value, error = None, e
            func, args, kwargs = step = _advance(steps, value, error)
            if func is _DONE or runs_on_loop(func):
                return step
    finally:
        run.on_loop = True


async def drive(
    steps: Steps[R], run: OnLoop, enter: t.Callable[[], t.Any] | None = None
) -> R:
    """Run a step generator made with ``run`` on the event loop: coroutine
    functions are awaited here, each contiguous run of sync steps goes to
    the pool in one hop (``enter()`` is called first in the pool thread)."""
    try:
        func, args, kwargs = step = steps.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    while True:
        if runs_on_loop(func):
            try:
                value = await func(*args, **kwargs)
            except BaseException as e:  # the steps decide what to handle
                step = _advance(steps, None, e)
            else:
                try:
                    step = steps.send(value)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
        else:
            step = await _to_pool(
                contextvars.copy_context(), functools.partial(_pool_leg, steps, run, enter, step)
            )
        func, args, kwargs = step
        if func is _DONE:
            return args  # type: ignore[return-value]  # _advance puts the result there


# -- work after the response (flask.background) ---------------------------------

#: Environment variable that sets the number of threads running background
#: tasks under WSGI (default 4).
BACKGROUND_THREADS_ENV = "FLASK_BACKGROUND_THREADS"


_background: Workers | None = None


def _forget_threads() -> None:
    # A forked child has none of its parent's threads (nor their locks).
    global _pool, _background, _pool_lock
    _pool = _background = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_forget_threads)


def in_background_thread(func: t.Callable[[], R]) -> concurrent.futures.Future[R]:
    """Run ``func()`` in the small daemon pool for background tasks under
    WSGI, in a fresh context; its future."""
    global _background
    if _background is None:
        with _pool_lock:
            if _background is None:
                _background = Workers(int(os.environ.get(BACKGROUND_THREADS_ENV) or 4), "flask-background")
    return _background.submit(func)


def wait_threads(
    futures: t.Iterable[concurrent.futures.Future[t.Any]], timeout: float | None
) -> set[concurrent.futures.Future[t.Any]]:
    """Wait up to ``timeout`` seconds for ``futures``; those not done."""
    import concurrent.futures

    return concurrent.futures.wait(futures, timeout).not_done


def spawn(
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, R]],
    /,
    *args: t.Any,
    enter: t.Callable[[], t.Any] | None = None,
) -> asyncio.Task[R]:
    """Start the coroutine function ``func(*args)`` as a task on the running
    loop, in a fresh context (``enter()`` called in it first), without
    waiting for it. On Python 3.12+ it starts at once (``eager_start``): a
    task that never waits ends without a turn of the loop. A loop with a
    task factory of its own gets its task from the factory, started later."""
    import asyncio

    loop = asyncio.get_running_loop()
    context = contextvars.Context()
    if enter is not None:
        context.run(enter)
    if sys.version_info >= (3, 12) and loop.get_task_factory() is None:
        return asyncio.Task(func(*args), loop=loop, context=context, eager_start=True)
    if sys.version_info >= (3, 11):  # create_task takes a context
        # Through create_task, which a loop may override to track its tasks.
        return loop.create_task(func(*args), context=context)
    # Before 3.11 a task starts from a copy of the context it is created in.
    return context.run(loop.create_task, func(*args))


async def call_within(
    context: contextvars.Context, func: t.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Call ``func`` where it belongs: a coroutine function as a task on the
    loop (in a copy of ``context``), anything else in the pool (in
    ``context`` itself, which must not be the caller's own); an awaitable a
    sync call returns is awaited as :func:`call` does."""
    import asyncio

    loop = asyncio.get_running_loop()
    if runs_on_loop(func):
        return await context.run(loop.create_task, func(*args, **kwargs))
    value = await _to_pool(context, functools.partial(func, *args, **kwargs))
    if isawaitable(value):  # as for call()
        return await context.run(loop.create_task, _awaited(value))
    return value
