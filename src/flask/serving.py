"""``Flask.run``: the development server started from Python."""

from __future__ import annotations

import os
import typing as t

from . import cli
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


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
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        # `flask run` already serves the app; a second server would block it.
        from werkzeug.serving import is_running_from_reloader

        if not is_running_from_reloader():
            import click

            click.secho(
                " * Ignoring a call to 'app.run()' that would block"
                " the current 'flask' CLI command.\n"
                "   Only call 'app.run()' in an 'if __name__ =="
                ' "__main__"\' guard.',
                fg="red",
            )
        return

    if get_load_dotenv(load_dotenv):
        cli.load_dotenv()
        if "FLASK_DEBUG" in os.environ:
            app.debug = get_debug_flag()
    if debug is not None:
        app.debug = bool(debug)

    server_name: str | None = app.config.get("SERVER_NAME")
    sn_host, _, sn_port = (server_name or "").partition(":")
    host = host or sn_host or "127.0.0.1"
    if port or port == 0:
        port = int(port)
    else:
        port = int(sn_port) if sn_port else 5000

    options.setdefault("use_reloader", app.debug)
    options.setdefault("use_debugger", app.debug)
    options.setdefault("threaded", True)
    cli.show_server_banner(app.debug, app.name)

    # Looked up at call time so tests can replace it.
    from werkzeug.serving import run_simple

    try:
        run_simple(host, port, app, **options)
    finally:
        # A reloaded process must be able to set up again.
        app._got_first_request = False
