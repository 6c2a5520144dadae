"""The ASGI ``lifespan`` scope: ``before_serving`` functions at startup,
``after_serving`` ones at shutdown, each in an app context; then, at
shutdown, the wait for pending background tasks (:mod:`flask.background`)."""

from __future__ import annotations

import contextvars
import traceback
import typing as t

from ..concurrency import call_in
from ..concurrency import call_within

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Flask
    from .http import Receive
    from .http import Send


async def lifespan(app: Flask, receive: Receive, send: Send) -> None:
    """Run the startup and shutdown functions; a failure is reported, so
    the server stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            phase, funcs = "startup", app.before_serving_funcs
        elif message["type"] == "lifespan.shutdown":
            phase, funcs = "shutdown", app.after_serving_funcs
        else:
            continue
        try:
            await _in_app_context(app, funcs)
            if phase == "shutdown" and "_flask_background" in app.__dict__:
                from ..background import wait_on_loop

                # Tasks still running are logged by name (and cancelled).
                await wait_on_loop(app)
        except Exception:
            await send({"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()})
            return
        await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return


async def _in_app_context(app: Flask, funcs: t.Iterable[t.Callable[[], t.Any]]) -> None:
    """Call ``funcs`` in one app context. It lives in a context of its own,
    so that its pop (whose teardown functions may block, or be coroutine
    functions that cannot be awaited inside a sync pop on the loop) runs in
    the pool, as a background task's does."""
    app_ctx = app.app_context()
    context = contextvars.Context()
    context.run(app_ctx.push)
    error: BaseException | None = None
    try:
        for func in funcs:
            await call_within(context, func)
    except BaseException as e:
        error = e
        raise
    finally:
        await call_in(context, app_ctx.pop, error)
