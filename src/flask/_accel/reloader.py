"""Werkzeug's reloader for ``flask run`` over uvicorn (a bridge, see
:mod:`flask._accel`).

``werkzeug.serving.run_simple`` reloads only Werkzeug's own server; an app
with WebSocket routes is served by uvicorn, so Werkzeug's file watchers are
asked for directly. The process model is this module's own, not
``werkzeug._reloader.run_with_reloader``'s: that one runs the server in a
daemon thread, where uvicorn cannot install its signal handlers, so Ctrl+C
ended the process without a shutdown (no ``after_serving`` hooks, no
"Shutting down" line). Here the server runs in the child's main thread and
the watcher in a thread beside it, and the parent waits for the child to
finish shutting down. When the bridge is off, the app is served without
reloading and the ``flask.shortcuts`` log says why.
"""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import subprocess
import sys
import threading
import typing as t

#: The exit status that asks the parent for a new child (Werkzeug's).
RESTART = 3


def run_with_reloader(
    main: t.Callable[[], bool],
    stop: t.Callable[[], None],
    extra_files: list[str] | None = None,
    exclude_patterns: list[str] | None = None,
) -> None:
    """Run ``main`` in a child process restarted when a source file changes.

    ``main`` serves until ``stop`` is called (from the watcher thread, on a
    change) or a signal ends it, and returns whether the server started; one
    that did not (a failing ``before_serving`` hook) waits for a change
    before it is restarted, as Werkzeug's reloader does.
    """
    from . import enabled

    if not enabled("werkzeug-reloader"):
        main()
        return
    module = importlib.import_module("werkzeug._reloader")
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        _child(module, main, stop, extra_files, exclude_patterns)
    else:
        sys.exit(_restart_loop(module))


def _child(
    module: t.Any,
    main: t.Callable[[], bool],
    stop: t.Callable[[], None],
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    module.ensure_echo_on()  # a previous child may have died with echo off
    watcher = module.reloader_loops["auto"](
        extra_files=extra_files, exclude_patterns=exclude_patterns, interval=1
    )
    changed = threading.Event()

    def watch() -> None:
        try:
            watcher.run()
        except SystemExit:  # trigger_reload logs the file, then sys.exit(3)
            changed.set()
            stop()

    # Entering takes the files' first state, so a change made while the
    # server starts is seen.
    with watcher:
        threading.Thread(target=watch, name="flask-reloader", daemon=True).start()
        started = main()
        if not started and not changed.is_set():
            try:
                changed.wait()
            except KeyboardInterrupt:
                return  # Ctrl+C while waiting for a fix: nothing to shut down
    if changed.is_set():
        sys.exit(RESTART)


def child_command() -> list[str]:
    """The command that started this process, run again for each child: the
    interpreter with its own options (``-X``, ``-W``) and what followed
    them (``-m flask run``, a console script, a file). Not Werkzeug's
    ``_get_args_for_reloading``, which its next release removes."""
    return [sys.executable, *sys.orig_argv[1:]]


def _restart_loop(module: t.Any) -> int:
    args = child_command()
    env = {**os.environ, "WERKZEUG_RUN_MAIN": "true"}
    while True:
        module._log("info", f" * Restarting with {module.reloader_loops['auto'].name}")
        code = _wait(subprocess.Popen(args, env=env, close_fds=False))
        if code != RESTART:
            # A child ended by a signal: the shell's convention, 128 + signal.
            return code if code >= 0 else 128 - code


def _wait(child: subprocess.Popen[bytes]) -> int:
    """The child's exit status. Ctrl+C and SIGTERM end the child, which then
    shuts down; the parent waits for it instead of killing it."""
    if os.name == "nt":  # pragma: no cover - the console signals every process
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue

    def pass_on(signum: int, frame: object) -> None:
        # Never sent twice: a second SIGINT makes uvicorn skip its shutdown.
        if signum != signal.SIGINT or not _terminal_signalled(child):
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _terminal_signalled(child: subprocess.Popen[bytes]) -> bool:
    """Whether the child is in the terminal's foreground process group, so
    that a Ctrl+C reached it as well as the parent."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgid(child.pid)
    except OSError:
        return False
    finally:
        os.close(fd)


def check_reloader() -> str | None:
    """Werkzeug's file watchers and helpers are where they were."""
    module = importlib.import_module("werkzeug._reloader")
    loops = getattr(module, "reloader_loops", None)
    if not isinstance(loops, dict) or "auto" not in loops:
        return "werkzeug._reloader.reloader_loops has no 'auto' entry"
    for name in ("_log", "ensure_echo_on"):
        if not callable(getattr(module, name, None)):
            return f"werkzeug._reloader.{name} is gone"
    loop = loops["auto"]
    for name in ("run", "__enter__", "__exit__", "trigger_reload"):
        if not callable(getattr(loop, name, None)):
            return f"{loop.__name__}.{name} is gone"
    params = inspect.signature(loop).parameters
    missing = {"extra_files", "exclude_patterns", "interval"} - params.keys()
    if missing:
        return f"{loop.__name__} takes no {sorted(missing)}"
    return None
