"""Finding and loading the application the ``flask`` command works with.

Finding an app in a module is an ordered list of strategies
(:data:`MODULE_STRATEGIES`): each looks for one kind of thing and either
returns the app, returns ``None`` to pass, or raises :exc:`NoAppException`
when what it found cannot be used. :mod:`flask.cli` re-exports the public
names.

It sits below the app, not in the ``flask.cli`` package: every app and
blueprint has a command group (:class:`flask.appgroup.AppGroup`) whose
commands load the app through :class:`ScriptInfo`, and the package's
``__init__`` reaches the request path (``flask run`` over ASGI), which
reaches the app structure again. So nothing here imports :mod:`flask.app`:
apps are recognised by the classes the facade lists in
:data:`flask.globals.app_classes`.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import re
import sys
import traceback
import typing as t
from functools import wraps
from pathlib import Path

import click

from .globals import _cv_app
from .globals import app_classes
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

if t.TYPE_CHECKING:
    from types import ModuleType

    from .app import Flask

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class NoAppException(click.UsageError):
    """Raised if an application cannot be found or loaded."""


def _is_app(value: object) -> t.TypeGuard[Flask]:
    # Before flask.app is imported the list is empty, and no app exists.
    return isinstance(value, tuple(app_classes))


# -- calling factories ---------------------------------------------------------


def _signature_rejects(
    func: t.Callable[..., t.Any], args: t.Sequence[t.Any], kwargs: dict[str, t.Any]
) -> bool:
    """Tell whether calling ``func`` with these arguments is a signature
    mismatch, as opposed to a ``TypeError`` raised from inside ``func``.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        # No signature to check against (some builtins): the error is the
        # function's own.
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
    """Call an app factory; a call its signature does not accept becomes
    :exc:`NoAppException` with the message ``on_mismatch``.
    """
    try:
        return factory(*args, **kwargs)
    except TypeError as e:
        if _signature_rejects(factory, args, kwargs):
            raise NoAppException(on_mismatch) from e

        raise


# -- strategies for a module given without an app name -------------------------


def app_by_conventional_name(module: ModuleType) -> Flask | None:
    """The module's ``app`` or, failing that, ``application`` attribute,
    if it is a Flask application.
    """
    candidates = (getattr(module, name, None) for name in ("app", "application"))
    return next((c for c in candidates if _is_app(c)), None)


def sole_app_instance(module: ModuleType) -> Flask | None:
    """The one Flask application among the module's globals, whatever
    its name.

    :raise NoAppException: if there are several.
    """
    apps = [value for value in vars(module).values() if _is_app(value)]

    if len(apps) > 1:
        name = module.__name__
        raise NoAppException(
            f"Detected multiple Flask applications in module '{name}'."
            f" Use '{name}:name' to specify the correct one."
        )

    return apps[0] if apps else None


def app_from_factory(module: ModuleType) -> Flask | None:
    """The app returned by the module's ``create_app`` or ``make_app``
    function, called without arguments.

    :raise NoAppException: if the factory needs arguments.
    """
    name = module.__name__

    for factory_name in ("create_app", "make_app"):
        factory = getattr(module, factory_name, None)

        if callable(factory):
            made = _call_factory(
                factory,
                (),
                {},
                f"Detected factory '{factory_name}' in module '{name}', but"
                " could not call it without arguments. Use"
                f" '{name}:{factory_name}(args)' to specify arguments.",
            )

            if _is_app(made):
                return made

    return None


#: Tried in order by :func:`find_best_app`; the first app found wins.
MODULE_STRATEGIES: tuple[t.Callable[[ModuleType], Flask | None], ...] = (
    app_by_conventional_name,
    sole_app_instance,
    app_from_factory,
)


def find_best_app(module: ModuleType) -> Flask:
    """Find the Flask application in a module by trying each of
    :data:`MODULE_STRATEGIES` in turn.

    :raise NoAppException: if no strategy finds one.
    """
    for strategy in MODULE_STRATEGIES:
        found = strategy(module)

        if found is not None:
            return found

    name = module.__name__
    raise NoAppException(
        f"Failed to find Flask application or factory in module '{name}'."
        f" Use '{name}:name' to specify one."
    )


# -- a module given with an app name --------------------------------------------


class AppReference(t.NamedTuple):
    """What ``name`` or ``name(args)`` after the colon of ``--app`` asks for."""

    name: str
    #: Literal positional and keyword arguments, or ``None`` for a bare name.
    call: tuple[list[t.Any], dict[str, t.Any]] | None


def parse_app_reference(text: str) -> AppReference:
    """Parse ``name`` or ``name(args)``, where the arguments must be
    Python literals.

    :raise NoAppException: for anything else.
    """
    try:
        node: ast.expr | None = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        node = None

    if isinstance(node, ast.Name):
        return AppReference(node.id, None)

    if not isinstance(node, ast.Call):
        raise NoAppException(
            f"Failed to parse {text!r} as an attribute name or function call."
        )

    if not isinstance(node.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {text!r}.")

    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        # ``**mapping`` is a keyword without a name; it is left out.
        named = [kw for kw in node.keywords if kw.arg is not None]
        kwargs = {t.cast(str, kw.arg): ast.literal_eval(kw.value) for kw in named}
    except ValueError:
        raise NoAppException(
            f"Failed to parse arguments as literal values: {text!r}."
        ) from None

    return AppReference(node.func.id, (args, kwargs))


_MISSING = object()


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Get an application from a module given ``name`` or ``factory(args)``.

    A function found by name is called, with the given literal arguments
    or none; any other attribute is used as it is.
    """
    ref = parse_app_reference(app_name)
    mod_name = module.__name__
    target = getattr(module, ref.name, _MISSING)

    if target is _MISSING:
        raise NoAppException(f"Failed to find attribute {ref.name!r} in {mod_name!r}.")

    if inspect.isfunction(target):
        args, kwargs = ref.call or ([], {})
        target = _call_factory(
            target,
            args,
            kwargs,
            f"The factory {app_name!r} in module {mod_name!r} could not be"
            " called with the specified arguments.",
        )

    if not _is_app(target):
        raise NoAppException(
            "A valid Flask application was not obtained from"
            f" '{mod_name}:{app_name}'."
        )

    return target


# -- importing the module -------------------------------------------------------


def prepare_import(path: str | os.PathLike[str]) -> str:
    """Turn a file or directory path into a dotted module name, and put the
    directory that contains the top-level package first on :data:`sys.path`.
    """
    module = Path(os.path.realpath(path))

    if module.suffix == ".py":
        module = module.with_suffix("")

    if module.name == "__init__":
        module = module.parent

    # Walk up through the enclosing packages, so a module inside nested
    # packages is imported by its full dotted name.
    names = [module.name]
    root = module.parent

    while (root / "__init__.py").exists():
        names.insert(0, root.name)
        root = root.parent

    if sys.path[0] != str(root):
        sys.path.insert(0, str(root))

    return ".".join(names)


def _is_missing_module(error: ImportError, module_name: str) -> bool:
    """Tell whether an import error means ``module_name`` itself (or one of
    its parent packages) does not exist, rather than a failure inside it.
    """
    missing = error.name if isinstance(error, ModuleNotFoundError) else None

    if missing is None:
        return False

    return module_name == missing or module_name.startswith(f"{missing}.")


def _import_app_module(module_name: str, must_exist: bool) -> ModuleType | None:
    try:
        # Not importlib.import_module: its frames would show in the
        # traceback reported for an error inside the module.
        __import__(module_name)
    except ImportError as e:
        if not _is_missing_module(e, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was"
                f" raised:\n\n{traceback.format_exc()}"
            ) from None

        if must_exist:
            raise NoAppException(f"Could not import {module_name!r}.") from None

        return None

    return sys.modules[module_name]


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
    module = _import_app_module(module_name, raise_if_not_found)

    if module is None:
        return None

    if app_name is not None:
        return find_app_by_string(module, app_name)

    return find_best_app(module)


# -- the script info --------------------------------------------------------------

# "path:name", where a colon followed by a slash is part of a Windows drive
# ("C:\...") rather than the separator.
_APP_SEPARATOR = re.compile(r":(?![\\/])")

_NO_APP_MESSAGE = (
    "Could not locate a Flask application. Use the 'flask --app' option,"
    " 'FLASK_APP' environment variable, or a 'wsgi.py' or 'app.py' file in the"
    " current directory."
)


def app_from_import_path(import_path: str) -> Flask:
    """The app named by ``--app``/``FLASK_APP``: ``module``, ``module:name``
    or ``module:factory(args)``, where the module may be a file path.
    """
    path, *name = _APP_SEPARATOR.split(import_path, maxsplit=1)
    return locate_app(prepare_import(path), name[0] if name else None)


def app_from_default_files() -> Flask | None:
    """The app in ``wsgi.py`` or else ``app.py`` in the working directory."""
    for filename in ("wsgi.py", "app.py"):
        found = locate_app(prepare_import(filename), None, raise_if_not_found=False)

        if found is not None:
            return found

    return None


@dataclasses.dataclass(eq=False)
class ScriptInfo:
    """What the ``flask`` command knows about the application to load; it
    loads the app on demand. Passed to commands as the click context's
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

    app_import_path: str | None = None
    create_app: t.Callable[..., Flask] | None = None
    set_debug_flag: bool = True
    load_dotenv_defaults: bool = True
    #: Free-form storage for extensions and custom commands.
    data: dict[t.Any, t.Any] = dataclasses.field(default_factory=dict, init=False)
    _loaded_app: Flask | None = dataclasses.field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        # FLASK_SKIP_DOTENV in the environment overrides the caller.
        self.load_dotenv_defaults = get_load_dotenv(self.load_dotenv_defaults)

    def _find_app(self) -> Flask:
        if self.create_app is not None:
            found: Flask | None = self.create_app()
        elif self.app_import_path:
            found = app_from_import_path(self.app_import_path)
        else:
            found = app_from_default_files()

        if found is None:
            raise NoAppException(_NO_APP_MESSAGE)

        return found

    def load_app(self) -> Flask:
        """Load the application once and return it on every later call.

        :raise NoAppException: if no application can be found.
        """
        if self._loaded_app is None:
            app = self._find_app()

            if self.set_debug_flag:
                # The CLI (--debug, FLASK_DEBUG) is the source of truth here,
                # even over what the app set for itself.
                app.debug = get_debug_flag()

            self._loaded_app = app

        return self._loaded_app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def enter_app_context(ctx: click.Context, app: Flask) -> None:
    """Keep ``app``'s context pushed until ``ctx`` closes, unless it is
    already the active one.
    """
    active = _cv_app.get(None)

    if active is None or active.app is not app:
        ctx.with_resource(app.app_context())


def with_appcontext(f: F) -> F:
    """Run the decorated click callback inside an app context, loading the
    application if no app context is active.

    Commands registered on :class:`AppGroup` get this automatically.
    """

    @wraps(f)
    def in_app_context(*args: t.Any, **kwargs: t.Any) -> t.Any:
        ctx = click.get_current_context()

        if _cv_app.get(None) is None:
            enter_app_context(ctx, ctx.ensure_object(ScriptInfo).load_app())

        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, in_app_context)
