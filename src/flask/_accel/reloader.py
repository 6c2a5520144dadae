"""Werkzeug's reloader for ``flask run`` over uvicorn (a bridge, see
:mod:`flask._accel`).

``werkzeug.serving.run_simple`` reloads only Werkzeug's own server; an app
with WebSocket routes is served by uvicorn, so the restart loop is asked
for directly. When the bridge is off, the app is served without reloading
and the ``flask.shortcuts`` log says why.
"""

from __future__ import annotations

import importlib
import inspect
import typing as t


def run_with_reloader(
    main: t.Callable[[], None],
    extra_files: list[str] | None = None,
    exclude_patterns: list[str] | None = None,
) -> None:
    """Run ``main`` in a child process restarted when a source file changes."""
    from . import enabled

    if not enabled("werkzeug-reloader"):
        main()
        return
    module = importlib.import_module("werkzeug._reloader")
    module.run_with_reloader(main, extra_files=extra_files, exclude_patterns=exclude_patterns)


def check_reloader() -> str | None:
    """Werkzeug's restart loop is where it was, taking the same arguments."""
    module = importlib.import_module("werkzeug._reloader")
    run = getattr(module, "run_with_reloader", None)
    if not callable(run):
        return "werkzeug._reloader.run_with_reloader is gone"
    params = inspect.signature(run).parameters
    missing = {"main_func", "extra_files", "exclude_patterns"} - params.keys()
    if missing:
        return f"run_with_reloader takes no {sorted(missing)}"
    return None
