"""The ``flask`` command line: application loading, command groups and the
built-in ``run``, ``shell`` and ``routes`` commands.
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

from ._cli_commands import _validate_key
from ._cli_commands import CertParamType as CertParamType
from ._cli_commands import routes_command as routes_command
from ._cli_commands import SeparatedPathType as SeparatedPathType
from ._cli_commands import shell_command as shell_command
from ._cli_discovery import find_app_by_string as find_app_by_string
from ._cli_discovery import find_best_app as find_best_app
from ._cli_discovery import locate_app as locate_app
from ._cli_discovery import NoAppException as NoAppException
from ._cli_discovery import pass_script_info as pass_script_info
from ._cli_discovery import prepare_import as prepare_import
from ._cli_discovery import ScriptInfo as ScriptInfo
from ._cli_discovery import with_appcontext as with_appcontext
from .globals import current_app
from .helpers import get_debug_flag

if t.TYPE_CHECKING:
    import ssl

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Flask


class AppGroup(click.Group):
    """A click group whose commands run in an app context by default.

    Pass ``with_appcontext=False`` to :meth:`command` to opt out. Sub-groups
    made with :meth:`group` are :class:`AppGroup` too.
    """

    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        """Like :meth:`click.Group.command`, wrapping the callback with
        :func:`with_appcontext` unless ``with_appcontext=False`` is given.
        """
        if len(args) == 1 and callable(args[0]) and not kwargs:
            # Used bare, as ``@group.command``.
            return self.command()(args[0])

        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)

            command: click.Command = super(AppGroup, self).command(*args, **kwargs)(f)
            return command

        return decorator

    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        """Like :meth:`click.Group.group`, defaulting ``cls`` to
        :class:`AppGroup`.
        """
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)


def get_version(ctx: click.Context, param: click.Parameter | None, value: t.Any) -> None:
    """Callback of ``--version``: print the Python, Flask and Werkzeug
    versions and exit.
    """
    if not value or ctx.resilient_parsing:
        return

    lines = [
        f"Python {platform.python_version()}",
        f"Flask {importlib.metadata.version('flask')}",
        f"Werkzeug {importlib.metadata.version('werkzeug')}",
    ]
    click.echo("\n".join(lines), color=ctx.color)
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the Flask version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


def _set_app(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    if value is None:
        return None

    ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


# Eager so the app path is known before any command (or --help) asks for it.
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help=(
        "The Flask application or factory function to load, in the form"
        " 'module:name'. Module can be a dotted import or file path. Name"
        " is not required if it is 'app', 'application', 'create_app', or"
        " 'make_app', and can be 'name(args)' to pass arguments."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)


def _set_debug(ctx: click.Context, param: click.Option, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name)

    # Not given on the command line or by FLASK_DEBUG: leave the environment
    # alone so it alone decides.
    if source is None or source in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    ):
        return None

    # The environment is what get_debug_flag reads, both here and in any
    # reloader child process.
    os.environ["FLASK_DEBUG"] = "1" if value else "0"
    return value


_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)


def _env_file_callback(
    ctx: click.Context, param: click.Option, value: str | None
) -> str | None:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        # Only an explicit file is an error; the defaults are optional.
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.",
                ctx=ctx,
                param=param,
            ) from None

    info = ctx.ensure_object(ScriptInfo)

    # FLASK_SKIP_DOTENV only turns off the default files, never an explicit
    # --env-file.
    if value is not None or info.load_dotenv_defaults:
        load_dotenv(value, load_defaults=info.load_dotenv_defaults)

    return value


# Eager and first, so variables from the files (FLASK_APP, ...) apply to the
# options processed after it.
_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file, taking precedence over"
        " those set by '.env' and '.flaskenv'. Variables set directly in the"
        " environment take highest precedence. python-dotenv must be installed."
    ),
    is_eager=True,
    expose_value=False,
    callback=_env_file_callback,
)


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
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        params += [_env_file_option, _app_option, _debug_option]

        if add_version_option:
            params.append(version_option)

        settings = dict(extra.pop("context_settings", None) or {})
        # FLASK_APP, FLASK_DEBUG, FLASK_RUN_PORT, ... fill in options.
        settings.setdefault("auto_envvar_prefix", "FLASK")
        extra["context_settings"] = settings

        super().__init__(params=params, **extra)

        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag

        if add_default_commands:
            for command in (run_command, shell_command, routes_command):
                self.add_command(command)

        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return

        for entry_point in importlib.metadata.entry_points(group="flask.commands"):
            self.add_command(entry_point.load(), entry_point.name)

        self._loaded_plugin_commands = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugin_commands()
        # Built-in and plugin commands work without loading the app.
        command = super().get_command(ctx, cmd_name)

        if command is not None:
            return command

        info = ctx.ensure_object(ScriptInfo)

        try:
            app = info.load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None

        # Make the app context available to the command's parameter callbacks
        # as well as its callback, unless this app's context is already active.
        if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())

        return app.cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)

        # A broken app must not break --help; show why its commands are
        # missing instead.
        try:
            names.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")

        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        # Tells Flask.run (called by an app module at import time) not to
        # start a second server.
        os.environ["FLASK_RUN_FROM_CLI"] = "true"

        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )

        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help:
            # Help is shown before options are processed; handle the env
            # files and app option first so the app's commands are listed.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])

        return super().parse_args(ctx, args)


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
    try:
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".flaskenv"):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv"
                " to use them.",
                fg="yellow",
                err=True,
            )

        return False

    files: list[str | os.PathLike[str]] = []

    if load_defaults:
        for name in (".flaskenv", ".env"):
            found = dotenv.find_dotenv(name, usecwd=True)

            if found:
                files.append(found)

    if path is not None and os.path.isfile(path):
        files.append(path)

    values: dict[str, str | None] = {}

    for file in files:
        values.update(dotenv.dotenv_values(file, encoding="utf-8"))

    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value

    return bool(values)


def show_server_banner(debug: bool | None, app_import_path: str | None) -> None:
    """Print the app and debug mode lines shown when the development server
    starts. Nothing is printed in the reloader's child process.
    """
    if is_running_from_reloader():
        return

    if app_import_path is not None:
        click.echo(f" * Serving Flask app '{app_import_path}'")

    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


def _failing_app(error: BaseException) -> WSGIApplication:
    """A WSGI app that re-raises a load error on each request, so the
    reloader keeps watching files until the error is fixed.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> t.Any:
        raise error from None

    return app


def _serve_asgi(app: t.Any, asgi: bool | None, cert: t.Any) -> bool:
    """Whether ``flask run`` serves over ASGI (see :mod:`flask._ws_serve`)."""
    from ._ws_serve import has_websocket_routes

    if asgi is False or (asgi is None and not has_websocket_routes(app)):
        return False
    import importlib.util

    problem = None
    if importlib.util.find_spec("uvicorn") is None:
        problem = "uvicorn is not installed ('pip install uvicorn')"
    elif cert is not None:
        problem = "--cert is only supported by the WSGI server"
    if problem is None:
        return True
    if asgi:
        raise click.UsageError(f"Cannot serve over ASGI: {problem}.")
    click.secho(
        f" * WebSocket routes found, but {problem}: serving HTTP only with"
        " the WSGI server, where WebSocket routes answer 400.",
        fg="yellow",
    )
    return False


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, help="The port to bind to.")
@click.option(
    "--cert",
    type=CertParamType(),
    help="Specify a certificate file to use HTTPS.",
    is_eager=True,
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_validate_key,
    expose_value=False,
    help="The key file to use when specifying a certificate.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Enable or disable the reloader. By default the reloader is active"
    " if debug is enabled.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Enable or disable the debugger. By default the debugger is active"
    " if debug is enabled.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Enable or disable multithreading.",
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    help=(
        "Extra files that trigger a reload on change. Multiple paths are"
        f" separated by {os.path.pathsep!r}."
    ),
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    help=(
        "Files matching these fnmatch patterns will not trigger a reload on"
        " change. Multiple patterns are separated by"
        f" {os.path.pathsep!r}."
    ),
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
    """Run a local development server.

    This server is for development purposes only. It does not provide
    the stability, security, or performance of production WSGI servers.

    The reloader and debugger are enabled by default with the '--debug'
    option.
    """
    app: WSGIApplication

    try:
        app = info.load_app()
    except Exception as e:
        if not is_running_from_reloader():
            raise e from None

        # In the reloader's child, keep serving so a fix can be picked up.
        traceback.print_exc()
        app = _failing_app(e)

    debug = get_debug_flag()

    if reload is None:
        reload = debug

    if debugger is None:
        debugger = debug

    show_server_banner(debug, info.app_import_path)
    if _serve_asgi(app, asgi, cert):
        from ._ws_serve import run_asgi

        run_asgi(
            app,  # type: ignore[arg-type]
            host,
            port,
            reload=reload,
            debugger=debugger,
            extra_files=extra_files,
            exclude_patterns=exclude_patterns,
            echo=click.echo,
        )
        return
    run_simple(
        host,
        port,
        app,
        use_reloader=reload,
        use_debugger=debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


# ``flask run --debug`` reads naturally, so accept the option here as well.
run_command.params.insert(0, _debug_option)


cli = FlaskGroup(
    name="flask",
    help="""\
A general utility script for Flask applications.

The application to load is given with the '--app' option, the 'FLASK_APP'
environment variable, or found in a 'wsgi.py' or 'app.py' file in the
current directory.
""",
)


def main() -> None:
    """Entry point of the ``flask`` console script."""
    cli.main()


if __name__ == "__main__":
    main()
