"""The ``flask`` command line: application loading, command groups and the
built-in ``run``, ``shell`` and ``routes`` commands.

Finding the app lives in :mod:`flask.discovery` and :class:`AppGroup` in
:mod:`flask.appgroup` (both below the app, whose ``cli`` is an
:class:`AppGroup`), the ``shell`` and ``routes`` commands and ``run``'s TLS
options in :mod:`flask.cli.commands`, serving over uvicorn in
:mod:`flask.cli.serve_asgi`; this module puts the ``flask`` group together
and keeps every public name of ``flask.cli``.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import traceback
import typing as t

import click
from click.core import ParameterSource
from werkzeug.serving import is_running_from_reloader
from werkzeug.serving import run_simple

from ..appgroup import AppGroup as AppGroup
from .commands import CertParamType as CertParamType
from .commands import routes_command as routes_command
from .commands import SeparatedPathType as SeparatedPathType
from .commands import shell_command as shell_command
from .commands import optional_import
from .commands import tls_options
from ..discovery import enter_app_context
from ..discovery import find_app_by_string as find_app_by_string
from ..discovery import find_best_app as find_best_app
from ..discovery import locate_app as locate_app
from ..discovery import NoAppException as NoAppException
from ..discovery import pass_script_info as pass_script_info
from ..discovery import prepare_import as prepare_import
from ..discovery import ScriptInfo as ScriptInfo
from ..discovery import with_appcontext as with_appcontext
from ..helpers import get_debug_flag

if t.TYPE_CHECKING:
    import ssl

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

    from ..app import Flask

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def get_version(ctx: click.Context, param: click.Parameter | None, value: t.Any) -> None:
    """Callback of ``--version``: print the Python, Flask and Werkzeug
    versions and exit.
    """
    if not value or ctx.resilient_parsing:
        return

    versions = [("Python", platform.python_version())]
    versions += [(name, importlib.metadata.version(name)) for name in ("Flask", "Werkzeug")]
    click.echo("\n".join(f"{name} {version}" for name, version in versions), color=ctx.color)
    ctx.exit()


def _setting_option(
    decl: str,
    callback: t.Callable[[click.Context, t.Any, t.Any], t.Any],
    help: str,
    **attrs: t.Any,
) -> click.Option:
    """An option of the ``flask`` group that acts through its callback
    (loading files, setting the app path or debug mode) instead of being
    passed to a command.
    """
    return click.Option(decl.split(","), callback=callback, expose_value=False, help=help, **attrs)


def _load_env_files(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    info = ctx.ensure_object(ScriptInfo)

    # The default files are optional; only an explicit one needs the package.
    if value is not None and optional_import("dotenv") is None:
        raise click.BadParameter(
            "python-dotenv must be installed to load an env file.", ctx=ctx, param=param
        )

    # FLASK_SKIP_DOTENV turns off the default files, never an explicit one.
    if value is not None or info.load_dotenv_defaults:
        load_dotenv(value, load_defaults=info.load_dotenv_defaults)

    return value


def _set_app(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value

    return value


# Sources that mean the user asked for a debug setting, rather than click
# filling in a default.
_GIVEN = frozenset(
    (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT)
)


def _set_debug(ctx: click.Context, param: click.Option, value: bool) -> bool | None:
    if ctx.get_parameter_source("debug") not in _GIVEN:
        # Leave the environment alone, so FLASK_DEBUG as it was decides.
        return None

    # get_debug_flag reads the environment, here and in a reloader's child.
    os.environ["FLASK_DEBUG"] = "1" if value else "0"
    return value


# Eager, and first among the eager ones: variables from the files (FLASK_APP,
# ...) apply to the options processed after it.
_env_file_option = _setting_option(
    "-e,--env-file",
    _load_env_files,
    is_eager=True,
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file, taking precedence over"
        " those set by '.env' and '.flaskenv'. Variables set directly in the"
        " environment take highest precedence. python-dotenv must be installed."
    ),
)
# Eager, so the app path is known before any command (or --help) asks.
_app_option = _setting_option(
    "-A,--app",
    _set_app,
    is_eager=True,
    metavar="IMPORT",
    help=(
        "The Flask application or factory function to load, in the form"
        " 'module:name'. Module can be a dotted import or file path. Name"
        " is not required if it is 'app', 'application', 'create_app', or"
        " 'make_app', and can be 'name(args)' to pass arguments."
    ),
)
_debug_option = _setting_option("--debug/--no-debug", _set_debug, "Set debug mode.")
version_option = _setting_option(
    "--version", get_version, "Show the Flask version.", is_eager=True, is_flag=True
)


def _load_app_or_report(ctx: click.Context, any_error: bool) -> Flask | None:
    """Load the app, or print why it can't be loaded and return ``None``.

    With ``any_error`` false, only :exc:`NoAppException` is reported and
    other errors propagate.
    """
    try:
        return ctx.ensure_object(ScriptInfo).load_app()
    except NoAppException as e:
        message = f"Error: {e.format_message()}\n"
    except Exception:
        if not any_error:
            raise

        message = f"{traceback.format_exc()}\n"

    click.secho(message, err=True, fg="red")
    return None


class FlaskGroup(AppGroup):
    """The group behind the ``flask`` command: adds the ``--app``,
    ``--env-file``, ``--debug`` and ``--version`` options, the built-in
    commands, commands from the ``flask.commands`` entry points, and the
    commands of the loaded application's ``app.cli``.

    :param add_default_commands: add ``run``, ``shell`` and ``routes``.
    :param create_app: function returning the app, passed to
        :class:`ScriptInfo`.
    :param add_version_option: add ``--version``.
    :param load_dotenv: load ``.flaskenv`` and ``.env`` on start.
    :param set_debug_flag: set ``app.debug`` from ``FLASK_DEBUG``.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Flask] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        ours = [_env_file_option, _app_option, _debug_option]

        if add_version_option:
            ours.append(version_option)

        # FLASK_APP, FLASK_DEBUG, FLASK_RUN_PORT, ... fill in options; a
        # caller's own settings win.
        settings = {"auto_envvar_prefix": "FLASK", **(extra.pop("context_settings", None) or {})}
        params = [*(extra.pop("params", None) or ()), *ours]
        super().__init__(params=params, context_settings=settings, **extra)

        if add_default_commands:
            for command in (run_command, shell_command, routes_command):
                self.add_command(command)

        #: What each command's :class:`ScriptInfo` is made with.
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.load_dotenv = load_dotenv
        self._plugins_loaded = False

    def _add_plugin_commands(self) -> None:
        # Entry points are read on first use, not when the group is made. A
        # plugin that fails to load fails every lookup, not just the first.
        if not self._plugins_loaded:
            for entry_point in importlib.metadata.entry_points(group="flask.commands"):
                self.add_command(entry_point.load(), entry_point.name)

            self._plugins_loaded = True

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        # Flask.run, called by an app module as it is imported, reads this to
        # leave serving to ``flask run``.
        os.environ["FLASK_RUN_FROM_CLI"] = "true"

        if "obj" not in {**self.context_settings, **extra}:
            extra["obj"] = ScriptInfo(None, self.create_app, self.set_debug_flag, self.load_dotenv)

        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help:
            # Help is shown before options are processed; handle the env
            # files and app option first so the app's commands are listed.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])

        try:
            return super().parse_args(ctx, args)
        except click.exceptions.Exit:
            # --help and --version exit while parsing. Click 8.2 closes the
            # context then (so an app context that listing the app's
            # commands pushed is popped); Click 8.1 left that to nobody.
            ctx.close()
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()
        # Built-in and plugin commands work without loading the app.
        builtin = super().get_command(ctx, cmd_name)

        if builtin is not None:
            return builtin

        app = _load_app_or_report(ctx, any_error=False)

        if app is None:
            return None

        # Parameter callbacks of the app's command run in its context too.
        enter_app_context(ctx, app)
        return app.cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        # A broken app must not break --help: list what works, say why the
        # app's own commands are missing.
        app = _load_app_or_report(ctx, any_error=True)
        names = set(super().list_commands(ctx))

        if app is not None:
            names.update(app.cli.list_commands(ctx))

        return sorted(names)


# The defaults, in the order they are loaded: later files override earlier.
_DOTENV_DEFAULTS = (".flaskenv", ".env")


def load_dotenv(
    path: str | os.PathLike[str] | None = None, load_defaults: bool = True
) -> bool:
    """Load environment variables from dotenv files with python-dotenv.

    The defaults, ``.flaskenv`` then ``.env`` (each found by searching up
    from the working directory), are loaded first and ``path`` last, later
    files overriding earlier ones. Variables already in the environment are
    never changed.

    :param path: an extra file to load.
    :param load_defaults: whether to look for the default files.
    :return: whether any variables were found in the files.
    """
    if optional_import("dotenv") is None:
        if path or any(os.path.isfile(name) for name in _DOTENV_DEFAULTS):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv"
                " to use them.",
                err=True,
                fg="yellow",
            )

        return False

    import dotenv

    # find_dotenv searches up from the working directory; "" is not found.
    defaults = [dotenv.find_dotenv(name, usecwd=True) for name in _DOTENV_DEFAULTS]
    files: list[str | os.PathLike[str]] = [f for f in defaults if f] if load_defaults else []

    if path is not None and os.path.isfile(path):
        files.append(path)

    found: dict[str, str | None] = {}

    for file in files:
        found.update(dotenv.dotenv_values(file, encoding="utf-8"))

    for key, value in found.items():
        if value is not None:
            os.environ.setdefault(key, value)

    return bool(found)


def show_server_banner(debug: bool | None, app_import_path: str | None) -> None:
    """Print the app and debug mode lines shown when the development server
    starts. Nothing is printed in the reloader's child process.
    """
    lines = []

    if app_import_path is not None:
        lines.append(f" * Serving Flask app '{app_import_path}'")

    if debug is not None:
        lines.append(f" * Debug mode: {'on' if debug else 'off'}")

    if lines and not is_running_from_reloader():
        click.echo("\n".join(lines))


def _app_or_error_app(info: ScriptInfo) -> WSGIApplication:
    """The app to serve. In the reloader's child a load error is printed
    and re-raised by every request instead, so the reloader keeps watching
    files until it is fixed.
    """
    try:
        return info.load_app()
    except Exception as e:
        if not is_running_from_reloader():
            raise e from None

        traceback.print_exc()
        error = e

    def error_app(environ: WSGIEnvironment, start_response: StartResponse) -> t.Any:
        raise error from None

    return error_app


#: The WebSocket implementations uvicorn can use (its ``--ws`` choices).
_UVICORN_WEBSOCKET_LIBRARIES = ("websockets", "wsproto")


def _serve_asgi(app: t.Any, asgi: bool | None, cert: t.Any) -> bool:
    """Whether ``flask run`` serves over ASGI (see :mod:`flask.cli.serve_asgi`)."""
    from .serve_asgi import has_websocket_routes

    websocket_routes = has_websocket_routes(app)
    if asgi is False or (asgi is None and not websocket_routes):
        return False
    import importlib.util

    problem = None
    if importlib.util.find_spec("uvicorn") is None:
        problem = """uvicorn is not installed ('pip install "flask[asgi]"')"""
    elif cert is not None:
        problem = "--cert is only supported by the WSGI server"
    if problem is None:
        if websocket_routes and not any(
            importlib.util.find_spec(name) is not None for name in _UVICORN_WEBSOCKET_LIBRARIES
        ):
            # uvicorn would start and answer every handshake with 400.
            raise click.UsageError(
                "Cannot serve the WebSocket routes: uvicorn is installed, but no"
                " WebSocket library it can use ('websockets' or 'wsproto')."
                """ Install one with 'pip install "flask[asgi]"' (or 'pip install websockets')."""
            )
        return True
    if asgi:
        raise click.UsageError(f"Cannot serve over ASGI: {problem}.")
    click.secho(
        f" * WebSocket routes found, but {problem}: serving HTTP only with"
        " the WSGI server, where WebSocket routes answer 400.",
        fg="yellow",
    )
    return False


def _debug_default_toggle(name: str, what: str) -> t.Callable[[F], F]:
    """``--NAME/--no-NAME``, ``None`` when not given: it then follows debug
    mode.
    """
    return click.option(
        f"--{name}/--no-{name}",
        default=None,
        help=f"Enable or disable the {what}. By default the {what} is active if debug is enabled.",
    )


def _path_list_option(decl: str, help: str) -> t.Callable[[F], F]:
    return click.option(decl, default=None, type=SeparatedPathType(), help=help)


@click.command(
    "run",
    params=[_debug_option],  # ``flask run --debug`` reads naturally too
    short_help="Run a development server.",
    help=(
        "Run a local development server.\n\n"
        "This server is for development purposes only. It does not provide"
        " the stability, security, or performance of production WSGI servers.\n\n"
        "The reloader and debugger are enabled by default with the '--debug'"
        " option."
    ),
)
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, help="The port to bind to.")
@tls_options
@_debug_default_toggle("reload", "reloader")
@_debug_default_toggle("debugger", "debugger")
@click.option(
    "--with-threads/--without-threads", default=True, help="Enable or disable multithreading."
)
@_path_list_option(
    "--extra-files",
    "Extra files that trigger a reload on change. Multiple paths are"
    f" separated by {os.path.pathsep!r}.",
)
@_path_list_option(
    "--exclude-patterns",
    "Files matching these fnmatch patterns will not trigger a reload on"
    f" change. Multiple patterns are separated by {os.path.pathsep!r}.",
)
@click.option(
    "--asgi/--wsgi",
    default=None,
    help="Serve over ASGI with uvicorn (needed for WebSocket routes) or with"
    " Werkzeug's WSGI server. By default ASGI when the app has WebSocket routes.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: ssl.SSLContext | tuple[str, str | None] | t.Literal["adhoc"] | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    asgi: bool | None = None,
) -> None:
    app = _app_or_error_app(info)
    debug = get_debug_flag()
    # Unless given, the reloader and debugger follow debug mode.
    use_reloader = debug if reload is None else reload
    use_debugger = debug if debugger is None else debugger
    show_server_banner(debug, info.app_import_path)
    if _serve_asgi(app, asgi, cert):
        from .serve_asgi import run_asgi

        run_asgi(
            app,  # type: ignore[arg-type]
            host,
            port,
            reload=use_reloader,
            debugger=use_debugger,
            extra_files=extra_files,
            exclude_patterns=exclude_patterns,
            echo=click.echo,
        )
        return
    run_simple(
        host,
        port,
        app,
        use_reloader=use_reloader,
        use_debugger=use_debugger,
        ssl_context=cert,
        threaded=with_threads,
        exclude_patterns=exclude_patterns,
        extra_files=extra_files,
    )


cli = FlaskGroup(
    name="flask",
    help=(
        "A general utility script for Flask applications.\n\n"
        "The application to load is given with the '--app' option, the"
        " 'FLASK_APP' environment variable, or found in a 'wsgi.py' or"
        " 'app.py' file in the current directory."
    ),
)


def main() -> None:
    """Entry point of the ``flask`` console script."""
    cli.main()


if __name__ == "__main__":
    main()
