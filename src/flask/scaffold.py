"""What :class:`~flask.Flask` and :class:`~flask.Blueprint` have in common.

Both collect views, hooks and error handlers into plain dicts keyed by
blueprint name (``None`` for the app itself). Extensions read and write
these dicts directly, so their shapes follow Flask's.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import typing as t
from collections import defaultdict
from functools import cached_property
from functools import update_wrapper

from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException

from .helpers import get_root_path

if t.TYPE_CHECKING:  # pragma: no cover
    from jinja2 import BaseLoader

    from .appgroup import AppGroup

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
T = t.TypeVar("T", bound=t.Callable[..., t.Any])
if t.TYPE_CHECKING:  # pragma: no cover
    # flask.typing costs import time, and annotations are never evaluated.
    from . import typing as ft

    # What each decorator accepts, so that users' type checkers see a wrong
    # view or hook signature at the decorator.
    RouteT = t.TypeVar("RouteT", bound=ft.RouteCallable)
    BeforeRequestT = t.TypeVar("BeforeRequestT", bound=ft.BeforeRequestCallable)
    AfterRequestT = t.TypeVar("AfterRequestT", bound=ft.AfterRequestCallable[t.Any])
    TeardownT = t.TypeVar("TeardownT", bound=ft.TeardownCallable)
    ContextProcessorT = t.TypeVar(
        "ContextProcessorT", bound=ft.TemplateContextProcessorCallable
    )
    URLValuePreprocessorT = t.TypeVar(
        "URLValuePreprocessorT", bound=ft.URLValuePreprocessorCallable
    )
    URLDefaultsT = t.TypeVar("URLDefaultsT", bound=ft.URLDefaultCallable)
    ErrorHandlerT = t.TypeVar("ErrorHandlerT", bound=ft.ErrorHandlerCallable)


def setupmethod(f: F) -> F:
    """Mark a method that changes setup: it is refused once setup is final."""
    name = f.__name__

    def wrapper(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]  # update_wrapper keeps f's signature


def _registering_decorator(
    add: t.Callable[..., None], name: str | None
) -> t.Callable[[T], T]:
    """A decorator calling ``add(f, name=name)`` and returning ``f``."""

    def decorator(f: T) -> T:
        add(f, name=name)
        return f

    return decorator


def _late_setup(
    f_name: str, target: str, kind: str, happened: str, doing: str
) -> AssertionError:
    """The error for a setup method called after the object went live: an
    app that handled a request, a blueprint that was registered."""
    return AssertionError(
        f"The setup method '{f_name}' can no longer be called on the {target}."
        f" It has already {happened}, any changes will not be applied"
        " consistently.\nMake sure all imports, decorators, functions, etc."
        f" needed to set up the {kind} are done before {doing} it."
    )


def _endpoint_from_view_func(view_func: t.Callable[..., t.Any] | None) -> str:
    assert view_func is not None, "expected view func if endpoint is not provided."
    return view_func.__name__


def _exc_class_and_code(
    exc_class_or_code: type[Exception] | int,
) -> tuple[type[Exception], int | None]:
    """What an error handler registration means: the class and its HTTP code."""
    if isinstance(exc_class_or_code, int):
        exc_class = default_exceptions.get(exc_class_or_code)
        if exc_class is None:
            raise ValueError(
                f"'{exc_class_or_code}' is not a recognized HTTP error code."
                " Use a subclass of HTTPException with that code instead."
            )
    else:
        exc_class = exc_class_or_code  # type: ignore[assignment]  # an Exception subclass given directly

    if isinstance(exc_class, Exception):
        raise TypeError(
            f"{exc_class!r} is an instance, not a class. Handlers can only be"
            " registered for Exception classes or HTTP error codes."
        )
    if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
        name = getattr(exc_class, "__name__", repr(exc_class))
        raise ValueError(
            f"'{name}' is not a subclass of Exception. Handlers can only be"
            " registered for Exception classes or HTTP error codes."
        )
    if issubclass(exc_class, HTTPException):
        return exc_class, exc_class.code
    return exc_class, None


class Scaffold:
    """Registration shared by apps and blueprints.

    :param import_name: the module or package the object belongs to; used to
        find ``root_path``.
    :param static_folder: folder of static files, relative to ``root_path``.
    :param static_url_path: URL prefix of static files; defaults to the
        folder's name.
    :param template_folder: folder of templates, relative to ``root_path``.
    :param root_path: overrides the folder found from ``import_name``.
    """

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        # The folder the other paths are relative to comes first.
        self.root_path = get_root_path(import_name) if root_path is None else root_path
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder

        self.view_functions: dict[str, t.Callable[..., t.Any]] = {}
        #: scope -> status code or None -> exception class -> handler
        self.error_handler_spec: dict[
            str | None, dict[int | None, dict[type[Exception], t.Callable[..., t.Any]]]
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[str | None, list[t.Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.after_request_funcs: dict[str | None, list[t.Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.teardown_request_funcs: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)
        #: WebSocket hooks by scope, like ``before_request_funcs``.
        self.before_websocket_funcs: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)
        self.after_websocket_funcs: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)
        self.template_context_processors: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)
        self.url_value_preprocessors: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)
        self.url_default_functions: dict[
            str | None, list[t.Callable[..., t.Any]]
        ] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    # -- command line -----------------------------------------------------

    @property
    def cli(self) -> AppGroup:
        """The Click group for this object's commands, created on first use."""
        group = self.__dict__.get("_cli")
        if group is None:
            # Imported here so that `import flask` does not load Click.
            from .appgroup import AppGroup

            group = self.__dict__["_cli"] = AppGroup(self.name)
        return group

    @cli.setter
    def cli(self, value: AppGroup) -> None:
        self.__dict__["_cli"] = value

    def _has_cli_commands(self) -> bool:
        group = self.__dict__.get("_cli")
        return group is not None and bool(group.commands)

    # -- files --------------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is configured."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of the static route, by default the folder's name."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            return f"/{os.path.basename(self.static_folder)}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        # Stored without a trailing slash: rules append "/<path:filename>".
        self._static_url_path = None if value is None else value.rstrip("/")

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """A loader for ``template_folder``, or ``None`` without one."""
        if self.template_folder is None:
            return None
        # Imported here so that `import flask` does not load Jinja.
        from jinja2 import FileSystemLoader

        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    # -- routes ---------------------------------------------------------------

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        raise NotImplementedError

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """Decorate a view function to register it for ``rule``."""

        def decorator(f: RouteT) -> RouteT:
            # "endpoint" is taken out before the rest become rule options.
            self.add_url_rule(rule, options.pop("endpoint", None), f, **options)
            return f

        return decorator

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[RouteT], RouteT]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[RouteT], RouteT]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def websocket(self, rule: str, **options: t.Any) -> t.Callable[[T], T]:
        """Decorate a WebSocket handler (``async def`` or ``def``) for
        ``rule``: a Werkzeug rule with ``websocket=True``, served under ASGI
        (see ``docs/websockets.md``). Takes ``route``'s options but
        ``methods``.

        .. beyond-flask:: WebSocket routes, served over ASGI.
        """
        if "methods" in options:
            raise TypeError("WebSocket routes take no 'methods' argument.")

        def decorator(f: T) -> T:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(
                rule,
                endpoint,
                f,
                provide_automatic_options=False,
                methods=("GET",),
                websocket=True,
                **options,
            )
            return f

        return decorator

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[F], F]:
        """Register the decorated function as the view of ``endpoint``."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks ------------------------------------------------------------------

    @setupmethod
    def before_request(self, f: BeforeRequestT) -> BeforeRequestT:
        """Run ``f()`` before each request; a non-None return ends the request."""
        self.before_request_funcs[None].append(f)
        return f

    @setupmethod
    def after_request(self, f: AfterRequestT) -> AfterRequestT:
        """Run ``f(response)`` after each request; it returns the response."""
        self.after_request_funcs[None].append(f)
        return f

    @setupmethod
    def teardown_request(self, f: TeardownT) -> TeardownT:
        """Run ``f(error)`` when the request context is popped."""
        self.teardown_request_funcs[None].append(f)
        return f

    @setupmethod
    def before_websocket(self, f: T) -> T:
        """Run ``f()`` before each WebSocket handler of this scope; a
        non-None return refuses the handshake with it as the response.

        .. beyond-flask:: WebSocket hook, run before each WebSocket handler.
        """
        self.before_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def after_websocket(self, f: T) -> T:
        """Run ``f(response)`` after each WebSocket handler of this scope:
        ``response`` is the refusal response, or ``None`` once accepted; a
        non-None return replaces the refusal response.

        .. beyond-flask:: WebSocket hook, run after each WebSocket handler.
        """
        self.after_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def context_processor(self, f: ContextProcessorT) -> ContextProcessorT:
        """Register a function returning extra template variables."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: URLValuePreprocessorT) -> URLValuePreprocessorT:
        """Register ``f(endpoint, values)``, run before ``before_request``."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: URLDefaultsT) -> URLDefaultsT:
        """Register ``f(endpoint, values)`` to fill in values in ``url_for``."""
        self.url_default_functions[None].append(f)
        return f

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> t.Callable[[ErrorHandlerT], ErrorHandlerT]:
        """Register the decorated function to handle an error code or class."""

        def decorator(f: ErrorHandlerT) -> ErrorHandlerT:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ft.ErrorHandlerCallable
    ) -> None:
        """The non-decorator form of :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    _get_exc_class_and_code = staticmethod(_exc_class_and_code)


def _is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it, component by component.
    Both are absolute and normalised (``os.path.abspath``); ``pathlib``
    would be a quarter of ``import flask``'s own time for this one test."""
    path, folder = os.path.normcase(path), os.path.normcase(folder)
    base = folder.rstrip(os.sep)
    return path in (folder, base) or path.startswith(base + os.sep)


def _base_folder(import_name: str) -> str:
    """The folder on ``sys.path`` that ``import_name`` was imported from."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return os.getcwd()
        filename = spec.origin
        if filename in (None, "namespace") and spec.submodule_search_locations:
            filename = os.path.join(list(spec.submodule_search_locations)[0], "_")
        if filename is None:
            return os.getcwd()
    folder = os.path.dirname(os.path.abspath(filename))
    parts = import_name.split(".")
    # A package's folder is itself one of the dotted parts; a plain module's
    # folder is the parent of its last part.
    is_package = os.path.splitext(os.path.basename(filename))[0] == "__init__"
    for _ in range(len(parts) if is_package else len(parts) - 1):
        folder = os.path.dirname(folder)
    return folder


def find_package(import_name: str) -> tuple[str | None, str]:
    """``(prefix, folder)`` for a module: ``prefix`` is the installation prefix
    when the module is installed (in ``sys.prefix`` or a ``site-packages``),
    else ``None``; ``folder`` is where the module's top-level package lives."""
    folder = _base_folder(import_name)
    prefix = os.path.abspath(sys.prefix)
    if _is_within(folder, prefix):
        return prefix, folder
    head, tail = os.path.split(folder)
    if tail.lower() == "site-packages":
        # <prefix>/lib/site-packages or <prefix>/lib/pythonX.Y/site-packages
        parent, name = os.path.split(head)
        if name.lower() == "lib":
            return parent, folder
        if os.path.basename(parent).lower() == "lib":
            return os.path.dirname(parent), folder
        return head, folder
    return None, folder
