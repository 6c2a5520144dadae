"""Finding and loading the application the ``flask`` command works with.

Private to :mod:`flask.cli`, which re-exports the public names.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import sys
import traceback
import typing as t
from functools import update_wrapper

import click

from .globals import current_app
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

if t.TYPE_CHECKING:
    from types import ModuleType

    from .app import Flask

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# Names tried, in this order, when a module is given without an app name.
_APP_NAMES = ("app", "application")
_FACTORY_NAMES = ("create_app", "make_app")


class NoAppException(click.UsageError):
    """Raised if an application cannot be found or loaded."""


def _flask_class() -> type[Flask]:
    # Imported on use so that importing the CLI module stays cheap and never
    # depends on the import order of the core.
    from .app import Flask

    return Flask


def _rejects_arguments(
    func: t.Callable[..., t.Any], args: t.Sequence[t.Any], kwargs: dict[str, t.Any]
) -> bool:
    """Tell whether calling ``func`` with these arguments is a signature
    mismatch, as opposed to a ``TypeError`` raised from inside ``func``.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        # Nothing to check against; treat the error as the function's own.
        return False

    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return True

    return False


def _call_factory(
    factory: t.Callable[..., t.Any],
    args: t.Sequence[t.Any],
    kwargs: dict[str, t.Any],
    on_mismatch: str,
) -> t.Any:
    """Call an app factory, turning a signature mismatch into
    :exc:`NoAppException` with the given message.
    """
    try:
        return factory(*args, **kwargs)
    except TypeError as e:
        if _rejects_arguments(factory, args, kwargs):
            raise NoAppException(on_mismatch) from e

        raise


def find_best_app(module: ModuleType) -> Flask:
    """Find the one Flask application in a module, or call a factory
    named ``create_app`` or ``make_app`` that takes no arguments.

    :raise NoAppException: if no application, or more than one, is found.
    """
    flask_cls = _flask_class()
    mod_name = module.__name__

    for name in _APP_NAMES:
        candidate = getattr(module, name, None)

        if isinstance(candidate, flask_cls):
            return candidate

    found = [v for v in vars(module).values() if isinstance(v, flask_cls)]

    if len(found) == 1:
        return found[0]

    if found:
        raise NoAppException(
            f"Detected multiple Flask applications in module '{mod_name}'."
            f" Use '{mod_name}:name' to specify the correct one."
        )

    for name in _FACTORY_NAMES:
        factory = getattr(module, name, None)

        if not callable(factory):
            continue

        app = _call_factory(
            factory,
            (),
            {},
            f"Detected factory '{name}' in module '{mod_name}', but could not"
            " call it without arguments. Use"
            f" '{mod_name}:{name}(args)' to specify arguments.",
        )

        if isinstance(app, flask_cls):
            return app

    raise NoAppException(
        f"Failed to find Flask application or factory in module '{mod_name}'."
        f" Use '{mod_name}:name' to specify one."
    )


def _parse_app_expression(
    app_name: str,
) -> tuple[str, list[t.Any] | None, dict[str, t.Any]]:
    """Split ``name`` or ``name(args)`` into the name and literal arguments.

    The arguments are ``None`` when the expression is a bare name.
    """
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        ) from None

    if isinstance(expr, ast.Name):
        return expr.id, None, {}

    if not isinstance(expr, ast.Call):
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        )

    if not isinstance(expr.func, ast.Name):
        raise NoAppException(
            f"Function reference must be a simple name: {app_name!r}."
        )

    try:
        args = [ast.literal_eval(node) for node in expr.args]
        # ``**mapping`` shows up as a keyword with no name; it can't be a literal.
        kwargs = {
            kw.arg: ast.literal_eval(kw.value)
            for kw in expr.keywords
            if kw.arg is not None
        }
    except ValueError:
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None

    return expr.func.id, args, kwargs


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Get an application from a module given ``name`` or ``factory(args)``.

    A plain function found by name is called without arguments. Arguments
    must be Python literals.
    """
    name, args, kwargs = _parse_app_expression(app_name)
    mod_name = module.__name__

    try:
        attr = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(
            f"Failed to find attribute {name!r} in {mod_name!r}."
        ) from e

    if inspect.isfunction(attr):
        app = _call_factory(
            attr,
            args or (),
            kwargs,
            f"The factory {app_name!r} in module {mod_name!r} could not be"
            " called with the specified arguments.",
        )
    else:
        app = attr

    if isinstance(app, _flask_class()):
        return app

    raise NoAppException(
        "A valid Flask application was not obtained from"
        f" '{mod_name}:{app_name}'."
    )


def prepare_import(path: str | os.PathLike[str]) -> str:
    """Turn a file or directory path into a dotted module name, and put the
    directory that contains the top-level package first on :data:`sys.path`.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)

    if ext == ".py":
        path = stem

    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)

    parts: list[str] = []

    # Climb while the directory is a package, so nested packages import by
    # their full dotted name.
    while True:
        path, part = os.path.split(path)
        parts.append(part)

        if not os.path.exists(os.path.join(path, "__init__.py")):
            break

    if sys.path[0] != path:
        sys.path.insert(0, path)

    return ".".join(reversed(parts))


def _is_missing_module(error: ImportError, module_name: str) -> bool:
    """Tell whether an import error means ``module_name`` itself (or one of
    its parent packages) does not exist, rather than a failure inside it.
    """
    if not isinstance(error, ModuleNotFoundError) or error.name is None:
        return False

    return module_name == error.name or module_name.startswith(f"{error.name}.")


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Flask: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[False] = ...
) -> Flask | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Flask | None:
    """Import ``module_name`` and find the application in it.

    If the module does not exist and ``raise_if_not_found`` is false, return
    ``None``. An import error raised while running the module is always
    reported.
    """
    try:
        __import__(module_name)
    except ImportError as e:
        if not _is_missing_module(e, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was"
                f" raised:\n\n{traceback.format_exc()}"
            ) from None

        if raise_if_not_found:
            raise NoAppException(f"Could not import {module_name!r}.") from None

        return None

    module = sys.modules[module_name]

    if app_name is None:
        return find_best_app(module)

    return find_app_by_string(module, app_name)


# "path:name", where a colon followed by a slash is part of a Windows drive
# ("C:\...") rather than the separator.
_APP_SEPARATOR = re.compile(r":(?![\\/])")

_NO_APP_MESSAGE = (
    "Could not locate a Flask application. Use the 'flask --app' option,"
    " 'FLASK_APP' environment variable, or a 'wsgi.py' or 'app.py' file in the"
    " current directory."
)


class ScriptInfo:
    """Carries what the ``flask`` command knows about the application to
    load, and loads it on demand. Passed to commands as the click context's
    ``obj``.

    :param app_import_path: ``module`` or ``module:name`` (or a file path)
        to import the app from.
    :param create_app: a function returning the app; takes precedence over
        ``app_import_path``.
    :param set_debug_flag: set ``app.debug`` from ``FLASK_DEBUG`` after
        loading.
    :param load_dotenv_defaults: load ``.flaskenv`` and ``.env`` when the
        command starts (unless ``FLASK_SKIP_DOTENV`` disables it).
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Flask] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        #: Free-form storage for extensions and custom commands.
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Flask | None = None

    def load_app(self) -> Flask:
        """Load the application once and return it on every later call.

        :raise NoAppException: if no application can be found.
        """
        if self._loaded_app is not None:
            return self._loaded_app

        app: Flask | None = None

        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, *rest = _APP_SEPARATOR.split(self.app_import_path, maxsplit=1)
            app = locate_app(prepare_import(path), rest[0] if rest else None)
        else:
            for candidate in ("wsgi.py", "app.py"):
                app = locate_app(
                    prepare_import(candidate), None, raise_if_not_found=False
                )

                if app is not None:
                    break

        if app is None:
            raise NoAppException(_NO_APP_MESSAGE)

        if self.set_debug_flag:
            # The CLI (--debug, FLASK_DEBUG) is the source of truth here, even
            # over what the app set for itself.
            app.debug = get_debug_flag()

        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the decorated click callback inside the app context of the
    loaded application, loading it if no app context is active.

    Commands registered on :class:`AppGroup` get this automatically.
    """

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        ctx = click.get_current_context()

        if not current_app:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())

        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]
