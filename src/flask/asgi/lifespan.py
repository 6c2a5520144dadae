"""The ASGI ``lifespan`` scope: ``before_serving`` functions at startup,
``after_serving`` ones at shutdown, each in an app context; then, at
shutdown, the wait for pending background tasks (:mod:`flask.background`)."""

from __future__ import annotations

import traceback
import typing as t

from ..concurrency import call

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
            with app.app_context():
                for func in funcs:
                    await call(func)
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
