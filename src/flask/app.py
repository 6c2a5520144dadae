"""The :class:`Flask` application object.

``Flask`` keeps Flask's public methods, so apps and extensions can call and
override them, but hands the work to small modules:

- :mod:`flask.pipeline`: the request path, from the WSGI call to the response;
- :mod:`flask.routing`: URL adapters and URL building;
- :mod:`flask.errors`: error handler lookup and error responses;
- :mod:`flask.responses`: view return values to response objects;
- :mod:`flask.scaffold`: the registration API shared with blueprints.
"""

from __future__ import annotations

import os
import sys
import typing as t
import weakref
from datetime import timedelta
from functools import cached_property
from inspect import CO_COROUTINE
from inspect import iscoroutinefunction
from types import FunctionType

from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import Aborter
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.utils import redirect as _wz_redirect

from . import errors
from . import pipeline
from . import responses
from . import routing
from .config import Config
from .config import DEFAULT_CONFIG
from .config import make_timedelta
from .config import ConfigAttribute
from .ctx import _AppCtxGlobals
from .ctx import AppContext
from .ctx import RequestContext
from .ctx import template_context_defaults
from .globals import _cv_request
from .globals import g
from .globals import request
from .helpers import get_debug_flag
from .json.provider import DefaultJSONProvider
from .json.provider import JSONProvider
from .logging import create_logger
from .matching import LazyBuilderRule
from .matching import RuleMap
from .matching import bind_request
from .scaffold import _endpoint_from_view_func
from .scaffold import _registering_decorator
from .scaffold import find_package
from .scaffold import Scaffold
from .scaffold import setupmethod
from .wrappers import Request
from .wrappers import Response

if t.TYPE_CHECKING:  # pragma: no cover
    import logging
    from types import TracebackType

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from jinja2 import BaseLoader
    from werkzeug.routing import BuildError
    from werkzeug.routing import MapAdapter

    from . import typing as ft
    from .blueprints import Blueprint
    from .sessions import SessionInterface
    from .templating import Environment
    from .testing import FlaskClient
    from .testing import FlaskCliRunner

T = t.TypeVar("T", bound=t.Callable[..., t.Any])


# Methods whose override (on the class or the instance) turns off the
# request path's shortcuts.
_PIPELINE_METHODS = (
    "full_dispatch_request",
    "finalize_request",
    "make_response",
    "process_response",
)


class Flask(Scaffold):
    """The WSGI application: a registry of views, hooks and configuration.

    :param import_name: the application's module or package, usually
        ``__name__``; it locates ``root_path`` and the instance folder.
    :param static_url_path: URL prefix of static files (default: the
        folder's name).
    :param static_folder: static files folder, relative to ``root_path``.
    :param static_host: host of the static route, with ``host_matching``.
    :param host_matching: match rules on the request's host.
    :param subdomain_matching: match subdomains against ``SERVER_NAME``.
    :param template_folder: templates folder, relative to ``root_path``.
    :param instance_path: absolute path of the instance folder.
    :param instance_relative_config: load config files from the instance
        folder instead of ``root_path``.
    :param root_path: overrides the folder found from ``import_name``.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class = Aborter
    #: The Jinja environment class; ``None`` means :class:`flask.templating.Environment`.
    jinja_environment: type[Environment] | None = None
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    url_rule_class: type[Rule] = LazyBuilderRule
    url_map_class: type[Map] = RuleMap
    test_client_class: type[FlaskClient] | None = None
    test_cli_runner_class: type[FlaskCliRunner] | None = None
    # Created on first use (flask.pipeline.DefaultSessionInterface).
    session_interface: SessionInterface = pipeline.DefaultSessionInterface()  # type: ignore[assignment]  # the descriptor gives a SessionInterface
    jinja_options: dict[str, t.Any] = {}

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute[t.Union[str, bytes, None]]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME",
        # A None value passes through unconverted, as Flask's config allows.
        get_converter=make_timedelta,  # type: ignore[arg-type]
    )

    #: Every config key Flask knows, with its default.
    default_config = ImmutableDict(DEFAULT_CONFIG)

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute."
                " A relative path was given instead."
            )
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.make_aborter()
        self.json: JSONProvider = self.json_provider_class(self)
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        self.teardown_appcontext_funcs: list[t.Callable[..., t.Any]] = []
        self.shell_context_processors: list[t.Callable[[], dict[str, t.Any]]] = []
        self.blueprints: dict[str, Blueprint] = {}
        #: Extensions keep their per-app state here, keyed by their name.
        self.extensions: dict[str, t.Any] = {}
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        # A subclass that binds URLs its own way must always be asked.
        self._plain_adapter = (
            type(self).create_url_adapter is Flask.create_url_adapter
        )

        if self.has_static_folder:
            assert bool(static_host) == host_matching, (
                "Invalid static_host/host_matching combination"
            )
            # A weak reference keeps the route from holding the app alive.
            app_ref = weakref.ref(self)
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: app_ref().send_static_file(**kw),  # type: ignore[union-attr]  # the app is alive while it serves requests
            )

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called"
                " on the application. It has already handled its first"
                " request, any changes will not be applied"
                " consistently.\n"
                "Make sure all imports, decorators, functions, etc."
                " needed to set up the application are done before"
                " running it."
            )

    # -- identity and configuration ------------------------------------------

    @cached_property
    def name(self) -> str:  # type: ignore[override]  # Flask's name is computed once
        """The app's name: the import name, or the script's name when run
        as ``__main__``."""
        if self.import_name == "__main__":
            filename: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if filename is None:
                return "__main__"
            return os.path.splitext(os.path.basename(filename))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The ``logging.Logger`` named after :attr:`name`."""
        return create_logger(self)

    @property
    def debug(self) -> bool:
        """Debug mode, the ``DEBUG`` config key."""
        return self.config["DEBUG"]  # type: ignore[no-any-return]  # DEBUG holds a bool

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = value

    def make_config(self, instance_relative: bool = False) -> Config:
        """The config object, filled with :attr:`default_config`."""
        root = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root, defaults)

    def make_aborter(self) -> Aborter:
        """The object :func:`flask.abort` calls."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """``instance`` beside the package, or ``<prefix>/var/<name>-instance``
        for an installed one."""
        prefix, folder = find_package(self.import_name)
        if prefix is None:
            return os.path.join(folder, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.AnyStr]:
        """Open a file in the instance folder (which may be written to)."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- templates ------------------------------------------------------------------

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create the Jinja environment from :attr:`jinja_options`."""
        # Imported here so that `import flask` does not load Jinja.
        from .templating import create_environment

        return create_environment(self)

    def create_global_jinja_loader(self) -> BaseLoader:
        """The loader that searches the app's and blueprints' templates."""
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape string templates and HTML, XML and SVG files."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add ``g``, ``request``, ``session`` and context processor values;
        values passed to the render call win."""
        ctx = _cv_request.get(None)
        scopes = [None] if ctx is None else [None, *reversed(ctx.request.blueprints)]
        given = context.copy()
        context.update(template_context_defaults())
        processors = self.template_context_processors
        for scope in scopes:
            for func in processors.get(scope, ()):
                context.update(self.ensure_sync(func)())
        context.update(given)

    @setupmethod
    def template_filter(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register the decorated function as a Jinja filter."""
        return _registering_decorator(self.add_template_filter, name)

    @setupmethod
    def add_template_filter(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja filter."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register the decorated function as a Jinja test."""
        return _registering_decorator(self.add_template_test, name)

    @setupmethod
    def add_template_test(self, f: t.Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register the decorated function as a Jinja global."""
        return _registering_decorator(self.add_template_global, name)

    @setupmethod
    def add_template_global(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja global."""
        self.jinja_env.globals[name or f.__name__] = f

    # -- setup ---------------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register ``view_func`` for ``rule``; see :meth:`route`."""
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        rule_obj = routing.make_rule(
            self, rule, endpoint, view_func, provide_automatic_options, options
        )
        self.url_map.add(rule_obj)
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint; ``options`` (``url_prefix``, ``subdomain``,
        ``url_defaults``, ``name``, ``cli_group``) override its own."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """Registered blueprints, in registration order."""
        return self.blueprints.values()

    @setupmethod
    def teardown_appcontext(self, f: T) -> T:
        """Run ``f(error)`` when the app context is popped."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: T) -> T:
        """Register a function adding names to ``flask shell``."""
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        """The namespace of ``flask shell``."""
        context: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    # -- async ---------------------------------------------------------------------

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """``func`` itself, or a synchronous wrapper if it is a coroutine
        function."""
        # A plain function's code flags answer the common case without
        # inspect's unwrapping (which was 6% of a hello-world request).
        if (
            type(func) is FunctionType
            and not func.__code__.co_flags & CO_COROUTINE
            and not hasattr(func, "_is_coroutine_marker")
        ):
            return func
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to run it to completion (asgiref)."""
        try:
            from asgiref.sync import async_to_sync as asgiref_async_to_sync
        except ImportError:
            raise RuntimeError(
                "Install Flask with the 'async' extra in order to use async views."
            ) from None
        return asgiref_async_to_sync(func)

    # -- URLs ------------------------------------------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Bind the URL map to ``request``, or to ``SERVER_NAME`` without one."""
        config = self.config
        if request is None:
            if config["SERVER_NAME"] is None:
                return None
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        trusted = config["TRUSTED_HOSTS"]
        if trusted is not None:
            request.trusted_hosts = trusted
            # Binding does not check trusted hosts; reading the host does,
            # raising SecurityError (a 400) for any other host.
            request.host  # noqa: B018
        server_name = config["SERVER_NAME"]
        subdomain = None
        if self.url_map.host_matching:
            # The request's own host is what rules match against.
            server_name = None
        elif not self.subdomain_matching:
            # Without subdomain matching, SERVER_NAME must not turn requests
            # for other hosts into 404s: pin the subdomain to the default.
            subdomain = self.url_map.default_subdomain or ""
        adapter = bind_request(self.url_map, request.environ, server_name, subdomain)
        if adapter is None:
            # Called from here: Werkzeug's server-name warning names this
            # module, which apps and Flask's tests filter on.
            adapter = self.url_map.bind_to_environ(
                request.environ, server_name=server_name, subdomain=subdomain
            )
        return adapter

    def _default_pipeline(self) -> bool:
        """Whether the response-making methods are Flask's own, so the
        request path may take its shortcuts (see :mod:`flask.pipeline`)."""
        plain = self.__dict__.get("_plain_pipeline")
        if plain is None:
            # Decided at the first request, after any setup-time patching,
            # against Flask's own functions (so patching Flask counts too).
            cls = type(self)
            plain = self.__dict__["_plain_pipeline"] = all(
                getattr(cls, name) is _ORIGINAL_PIPELINE[name]
                for name in _PIPELINE_METHODS
            )
        return plain and self.__dict__.keys().isdisjoint(_PIPELINE_METHODS)

    def _matches_directly(self) -> bool:
        """Whether requests can be matched without binding an adapter: only
        when binding would add nothing (see :mod:`flask.matching`)."""
        return (
            self._plain_adapter
            and not self.url_map.host_matching
            and not self.subdomain_matching
            and self.config["TRUSTED_HOSTS"] is None
        )

    # The functions themselves, not wrappers: templates call url_for once
    # per link, and the extra frame and keyword repacking were 4% of
    # rendering a 20-link page.
    url_for = routing.url_for
    inject_url_defaults = routing.inject_url_defaults

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Try :attr:`url_build_error_handlers`, else re-raise."""
        return routing.handle_url_build_error(self, error, endpoint, values)

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect response of :attr:`response_class`."""
        return _wz_redirect(location, code=code, Response=self.response_class)  # type: ignore[return-value]  # built with the app's response_class

    # -- responses and errors -----------------------------------------------------------

    make_response = responses.make_response

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> t.Callable[..., t.Any] | None:
        return errors.find_error_handler(self, e, blueprints)

    # Error handling is flask.errors' functions, as above.
    trap_http_exception = errors.trap_http_exception
    handle_http_exception = errors.handle_http_exception
    handle_user_exception = errors.handle_user_exception
    handle_exception = errors.handle_exception

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled exception on :attr:`logger`."""
        self.logger.error(
            f"Exception on {request.path} [{request.method}]", exc_info=exc_info
        )

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the URL matching error of ``request``."""
        errors.raise_routing_exception(self, request)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should not see ``error``."""
        return False

    # -- the request path (see flask.pipeline) ------------------------------------------

    # The request-path methods are the functions of flask.pipeline (and
    # errors, responses) themselves rather than wrappers around them: a
    # hello-world request went through five wrapper frames. A subclass
    # overrides them like any method.
    wsgi_app = pipeline.wsgi_app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    full_dispatch_request = pipeline.full_dispatch_request
    preprocess_request = pipeline.preprocess_request
    dispatch_request = pipeline.dispatch_request
    finalize_request = pipeline.finalize_request
    process_response = pipeline.process_response
    make_default_options_response = pipeline.make_default_options_response
    do_teardown_request = pipeline.do_teardown_request
    do_teardown_appcontext = pipeline.do_teardown_appcontext

    # -- contexts and testing ----------------------------------------------------------

    def app_context(self) -> AppContext:
        """A new application context: ``with app.app_context(): ...``."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """A new request context for a WSGI environ."""
        return RequestContext(self, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a request built from Werkzeug's
        ``EnvironBuilder`` arguments."""
        # Imported here: the test helpers are not needed to serve requests.
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> FlaskClient:
        """A test client for this app; see :class:`flask.testing.FlaskClient`."""
        cls = self.test_client_class
        if cls is None:
            from .testing import FlaskClient

            cls = FlaskClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> FlaskCliRunner:
        """A runner for this app's CLI commands."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import FlaskCliRunner

            cls = FlaskCliRunner
        return cls(self, **kwargs)

    # -- serving -----------------------------------------------------------------------

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with Werkzeug's development server; not for
        production. Does nothing under ``flask run``, which serves the app
        itself. See :func:`flask.serving.run_app`."""
        # Imported here: serving loads Click and Werkzeug's server.
        from .serving import run_app

        run_app(self, host, port, debug, load_dotenv, **options)


# Flask's own pipeline methods, to recognise any override or patch.
_ORIGINAL_PIPELINE = {name: getattr(Flask, name) for name in _PIPELINE_METHODS}
