"""``Flask.run``: the development server started from Python."""

from __future__ import annotations

import os
import typing as t

from . import cli
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


_BLOCKING_RUN_MESSAGE = (
    " * Ignoring a call to 'app.run()' that would block"
    " the current 'flask' CLI command.\n"
    "   Only call 'app.run()' in an 'if __name__ =="
    ' "__main__"\' guard.'
)


def _started_by_flask_run() -> bool:
    """Whether ``flask run`` is already serving, so that an ``app.run()``
    reached while it imports the app must not start a second server (which
    would block the command). Outside the reloader's child, says why.
    """
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False

    from werkzeug.serving import is_running_from_reloader

    if not is_running_from_reloader():
        import click

        click.secho(_BLOCKING_RUN_MESSAGE, fg="red")

    return True


def _apply_debug(app: Flask, debug: bool | None, load_dotenv: bool) -> None:
    # Like ``flask run``: the env files may set FLASK_DEBUG, which then wins
    # over what the app set; an explicit ``debug`` argument wins over both.
    if get_load_dotenv(load_dotenv):
        cli.load_dotenv()
        if "FLASK_DEBUG" in os.environ:
            app.debug = get_debug_flag()

    if debug is not None:
        app.debug = bool(debug)


def _address(server_name: str | None, host: str | None, port: int | None) -> tuple[str, int]:
    """Host and port to bind: the arguments, else ``SERVER_NAME``'s parts,
    else ``127.0.0.1:5000``. Port 0 (any free port) counts as given.
    """
    named_host, _, named_port = (server_name or "").partition(":")

    if not (port or port == 0):
        port = int(named_port) if named_port else 5000

    return host or named_host or "127.0.0.1", int(port)


def run_app(
    app: Flask,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    load_dotenv: bool = True,
    **options: t.Any,
) -> None:
    """Serve ``app`` with Werkzeug's ``run_simple``.

    Host and port default to ``SERVER_NAME``'s, then ``127.0.0.1:5000``;
    the reloader and debugger follow debug mode unless given.
    """
    if _started_by_flask_run():
        return

    _apply_debug(app, debug, load_dotenv)
    host, port = _address(app.config.get("SERVER_NAME"), host, port)
    options = {"use_reloader": app.debug, "use_debugger": app.debug, "threaded": True, **options}
    cli.show_server_banner(app.debug, app.name)

    # Looked up at call time so tests can replace it.
    from werkzeug.serving import run_simple

    try:
        run_simple(host, port, app, **options)
    finally:
        # A reloaded process must be able to set up again.
        app._got_first_request = False
