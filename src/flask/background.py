"""Work after the response: :meth:`Flask.add_background_task`.

A task added during a request is kept on its request context and started
once the response has been sent: under WSGI when the server closes the
response iterable (:class:`ClosingBody`), in a small daemon pool
(:func:`flask.concurrency.in_background_thread`); over ASGI after the last
body message (:mod:`flask.asgi.http`), a coroutine function as a task on
the loop, anything else in the pool (:func:`flask.concurrency.spawn`).
A task added outside a request, after its response was handed over, or
during a WebSocket connection (which has no response to wait for) starts
at once: over ASGI on the loop the adding thread serves.

Each task runs in a new app context of the app, whose ``g`` starts as a
shallow copy of the adding context's ``g`` (so its own teardown does not
touch the request's); ``request`` and ``session`` are not available, the
request being over. An exception is logged through ``app.logger``.

Shutdown (ASGI lifespan shutdown, or interpreter exit under WSGI) waits
for pending tasks up to ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT`` seconds and
logs each one still unfinished by name; a task cancelled otherwise (its
loop ended without a lifespan shutdown) is logged by name too.
"""

from __future__ import annotations

import atexit
import contextvars
import threading
import typing as t
import weakref

from . import concurrency
from .globals import _cv_app
from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio

    from .app import Flask
    from .concurrency import ThreadFuture as Future
    from .ctx import AppContext
    from .ctx import RequestContext

#: Config key: seconds shutdown waits for pending background tasks.
TIMEOUT_CONFIG_KEY = "BACKGROUND_TASK_SHUTDOWN_TIMEOUT"
#: Its default.
DEFAULT_TIMEOUT = 5.0

#: Environ key set by the test client (:class:`flask.testing.FlaskClient`):
#: a callable that is handed each :class:`ClosingBody`, so the client can
#: close the body and wait for its tasks before it returns.
TESTING_KEY = "flask.background_tasks"

#: What a request context's task list becomes once its tasks were taken:
#: later additions start at once.
SEALED: list[t.Any] = []


class BackgroundTask:
    """One function to call after the response, with its arguments."""

    __slots__ = ("func", "args", "kwargs", "g")

    def __init__(
        self,
        func: t.Callable[..., t.Any],
        args: tuple[t.Any, ...],
        kwargs: dict[str, t.Any],
        g: dict[str, t.Any],
    ) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.g = g

    @property
    def name(self) -> str:
        """The task's name in log lines: the function's qualified name."""
        func = self.func
        module = getattr(func, "__module__", None)
        qualname = getattr(func, "__qualname__", None) or repr(func)
        return f"{module}.{qualname}" if module else qualname


class Pending:
    """An app's started, unfinished tasks (for the shutdown wait)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.threads: dict[Future[t.Any], str] = {}
        # Each task's asyncio task, by the task: it leaves the record itself.
        self.tasks: dict[BackgroundTask, asyncio.Task[t.Any]] = {}
        # Those the shutdown wait cancels, having logged them itself.
        self.stopped: set[BackgroundTask] = set()


_apps: weakref.WeakSet[Flask] = weakref.WeakSet()
_exit_hook = False
_lock = threading.Lock()


def pending(app: Flask) -> Pending:
    found: Pending | None = app.__dict__.get("_flask_background")
    if found is None:
        with _lock:
            found = app.__dict__.get("_flask_background")
            if found is None:
                found = app.__dict__["_flask_background"] = Pending()
                _apps.add(app)
    return found


def add(app: Flask, func: t.Callable[..., t.Any], args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> None:
    """``app.add_background_task``: keep the task for after the current
    request's response, or start it now when there is none."""
    app_ctx = _cv_app.get(None)
    g = dict(app_ctx.g.__dict__) if app_ctx is not None and app_ctx.app is app else {}
    task = BackgroundTask(func, args, kwargs, g)
    ctx: RequestContext | None = _cv_request.get(None)
    if ctx is not None and ctx.app is app:
        tasks = ctx._background_tasks
        if tasks is None:
            ctx._background_tasks = [task]
            return
        if tasks is not SEALED:
            tasks.append(task)
            return
    loop = concurrency.serving_loop()
    if loop is None:
        start_in_threads(app, [task])
    elif concurrency.on_loop(loop):
        start_on_loop(app, [task])
    else:
        # A pool thread of an ASGI server (a sync WebSocket handler, a
        # teardown function): started on the loop it serves, as over ASGI.
        loop.call_soon_threadsafe(start_on_loop, app, [task])


def take(ctx: RequestContext) -> list[BackgroundTask] | None:
    """The request's tasks, leaving it sealed (later ones start at once)."""
    tasks = ctx._background_tasks
    ctx._background_tasks = SEALED
    return tasks if tasks is not SEALED else None


def _failed(app: Flask, task: BackgroundTask, what: str = "failed") -> None:
    app.logger.exception("Background task %s %s", task.name, what)


def _new_app_context(app: Flask, task: BackgroundTask) -> AppContext:
    app_ctx = app.app_context()
    if task.g:
        app_ctx.g.__dict__.update(task.g)
    return app_ctx


# -- under WSGI -------------------------------------------------------------------


def _run_in_thread(app: Flask, task: BackgroundTask) -> None:
    try:
        with _new_app_context(app, task):
            # An object with an async __call__ gives a coroutine: run it too.
            concurrency.settle_sync(app, app.ensure_sync(task.func)(*task.args, **task.kwargs))
    except Exception:
        _failed(app, task)
        raise


def start_in_threads(app: Flask, tasks: list[BackgroundTask]) -> list[Future[t.Any]]:
    """Start ``tasks`` in the background threads; their futures."""
    global _exit_hook
    record = pending(app)
    if not _exit_hook:
        with _lock:
            if not _exit_hook:
                atexit.register(at_exit)
                _exit_hook = True
    futures = []
    for task in tasks:
        future = concurrency.in_background_thread(lambda task=task: _run_in_thread(app, task))  # type: ignore[misc]
        with record.lock:
            record.threads[future] = task.name
        future.add_done_callback(record_done(record))
        futures.append(future)
    return futures


def record_done(record: Pending) -> t.Callable[[t.Any], None]:
    def done(future: t.Any) -> None:
        if not future.cancelled():
            # Retrieved, so asyncio does not report it again: it was logged.
            future.exception()
        with record.lock:
            record.threads.pop(future, None)

    return done


class ClosingBody:
    """The WSGI response iterable of a request that added background
    tasks: iterated as the app's own, and closing it starts the tasks."""

    __slots__ = ("body", "app", "tasks", "futures", "closed")

    def __init__(self, body: t.Iterable[bytes], app: Flask, tasks: list[BackgroundTask]) -> None:
        self.body = body
        self.app = app
        self.tasks: list[BackgroundTask] | None = tasks
        self.futures: list[Future[t.Any]] = []
        self.closed = False

    def __iter__(self) -> t.Iterator[bytes]:
        # The body's own iterator: no frame of ours per chunk.
        return iter(self.body)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            tasks, self.tasks = self.tasks, None
            if tasks:
                self.futures = start_in_threads(self.app, tasks)

    def wait(self) -> BaseException | None:
        """Wait for the tasks (the test client); the first error."""
        first: BaseException | None = None
        for future in self.futures:
            error = future.exception()
            first = first or error
        return first


def after_body(
    app: Flask, ctx: RequestContext, environ: t.Mapping[str, t.Any], body: t.Iterable[bytes]
) -> t.Iterable[bytes]:
    """The WSGI body of a request that added tasks: closing it (the server
    does once it has sent it) starts them; the test client is handed it."""
    tasks = take(ctx)
    if not tasks:
        return body
    closing = ClosingBody(body, app, tasks)
    hook = environ.get(TESTING_KEY)
    if hook is not None:
        hook(closing)
    return closing


def start_now(app: Flask, ctx: RequestContext) -> None:
    """Start the request's tasks now: its response failed, there is no
    body to close, and they are not lost with it."""
    tasks = take(ctx)
    if tasks:
        start_in_threads(app, tasks)


def wait_for_threads(app: Flask, timeout: float | None = None) -> list[str]:
    """Wait up to ``timeout`` seconds (default: the config's) for ``app``'s
    tasks running under WSGI; log and return the names of those still
    unfinished."""
    if timeout is None:
        timeout = app.config.get(TIMEOUT_CONFIG_KEY, DEFAULT_TIMEOUT)
    record = pending(app)
    with record.lock:
        futures = dict(record.threads)
    if not futures:
        return []
    not_done = concurrency.wait_threads(futures, timeout)
    return _unfinished(app, [futures[f] for f in not_done])


def _unfinished(app: Flask, names: list[str]) -> list[str]:
    for name in sorted(names):
        app.logger.error("Background task %s still unfinished at shutdown", name)
    return sorted(names)


def at_exit() -> None:
    """At interpreter exit: wait for every app's tasks, up to its timeout."""
    for app in list(_apps):
        wait_for_threads(app)


# -- over ASGI --------------------------------------------------------------------


async def _run_on_loop(
    app: Flask, task: BackgroundTask, record: Pending, app_ctx: AppContext, quiet: bool
) -> BaseException | None:
    # The task's own asyncio task, started in a fresh context of its own
    # with ``app_ctx`` pushed there. It leaves the record itself, which
    # saves a done callback (one more turn of the loop) per task. An error
    # is logged here and returned rather than raised, so that asyncio never
    # reports it a second time as never retrieved.
    try:
        if quiet:
            # Nothing at the pop can run or be seen (no teardown function,
            # no receiver of the pop's signals): the context this task runs
            # in ends with it, and the app context with that.
            func = task.func
            try:
                if concurrency.runs_on_loop(func):
                    await func(*task.args, **task.kwargs)  # without call()'s frame
                else:
                    await concurrency.call(func, *task.args, **task.kwargs)
            except Exception as e:
                _failed(app, task)
                return e
            return None
        # Teardown functions may block, so the pop goes to the pool: the app
        # context lives in a context of its own, entered only by the call and
        # by the pop.
        context = contextvars.Context()
        context.run(app_ctx.push)
        error: BaseException | None = None
        try:
            await concurrency.call_within(context, task.func, *task.args, **task.kwargs)
        except Exception as e:
            _failed(app, task)
            error = e
        finally:
            # Also when the task is cancelled (a shutdown's timeout): its
            # teardown still runs.
            try:
                await concurrency.call_in(context, app_ctx.pop, None)
            except Exception as e:
                _failed(app, task, "failed at teardown")
                error = error or e
        return error
    except BaseException:
        # Cancelled before it finished, and not by the shutdown wait (which
        # logs those it stops): the loop ended without a lifespan shutdown
        # (a server without lifespan support, ``asyncio.run`` returning).
        if task not in record.stopped:
            app.logger.error("Background task %s cancelled before it finished", task.name)
        raise
    finally:
        record.tasks.pop(task, None)


def start_on_loop(
    app: Flask, tasks: list[BackgroundTask], quiet: bool = False
) -> list[asyncio.Task[t.Any]]:
    """Start ``tasks`` from the running loop; their asyncio tasks, whose
    results are the errors they logged (or None).

    ``quiet`` says that popping an app context of ``app`` runs nothing
    that could block or be seen (:func:`flask.pipeline.quiet_app_teardown`),
    so each task's app context is pushed in the task's own context and left
    to end with it, saving a pool hop and a pop per task."""
    record = pending(app)
    started = []
    for task in tasks:
        app_ctx = _new_app_context(app, task)
        running = concurrency.spawn(
            _run_on_loop, app, task, record, app_ctx, quiet, enter=app_ctx.push if quiet else None
        )
        # A task may have ended as it started (Python 3.12+ starts it at
        # once): only one still running is waited for at shutdown. No lock:
        # a dict's single operations are atomic.
        if not running.done():
            record.tasks[task] = running
        started.append(running)
    return started


async def wait_on_loop(app: Flask, timeout: float | None = None) -> list[str]:
    """At lifespan shutdown: wait up to ``timeout`` seconds (default: the
    config's) for ``app``'s tasks; log and return the names of those still
    unfinished (they are cancelled)."""
    import asyncio

    if timeout is None:
        timeout = app.config.get(TIMEOUT_CONFIG_KEY, DEFAULT_TIMEOUT)
    record = pending(app)
    tasks = {running: task.name for task, running in list(record.tasks.items())}
    if not tasks:
        return []
    _, not_done = await asyncio.wait(tasks, timeout=timeout)
    stopped = [task for task, running in list(record.tasks.items()) if running in not_done]
    record.stopped.update(stopped)
    for running in not_done:
        running.cancel()
    if not_done:
        # Cancelled, each still pops its app context (its teardown may be
        # in the pool): wait for that too, as long again at most.
        await asyncio.wait(not_done, timeout=timeout)
    record.stopped.difference_update(stopped)
    return _unfinished(app, [tasks[r] for r in not_done])


async def finish_for_test(tasks: list[asyncio.Task[t.Any]]) -> BaseException | None:
    """Wait for a request's tasks (the test client); the first error."""
    import asyncio

    first: BaseException | None = None
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        # A task returns the error it logged; one cancelled raised instead.
        if isinstance(result, BaseException) and first is None:
            first = result
    return first


async def finish_loop_for_test(app: Flask) -> BaseException | None:
    """Wait for ``app``'s tasks running on this loop (a WebSocket test
    session's, whose loop is its own); the first error."""
    import asyncio

    loop = asyncio.get_running_loop()
    running = [task for task in list(pending(app).tasks.values()) if task.get_loop() is loop]
    return await finish_for_test(running) if running else None


def propagates(app: Flask) -> bool:
    """Whether the test client raises a task's error (as it does a view's)."""
    value = app.config["PROPAGATE_EXCEPTIONS"]
    return bool(app.testing or app.debug) if value is None else bool(value)
