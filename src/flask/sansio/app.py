""":class:`App`, the protocol-free base of :class:`flask.Flask`.

``App`` is an application's structure: configuration, the URL map, the view,
hook and error handler registries, blueprints, template registrations and
the rules of setup. It knows nothing of WSGI, request contexts, sessions or
response objects; :class:`flask.Flask` adds those. Extensions use ``App``
in type hints and ``isinstance`` checks meaning "any Flask-style app".
"""

from __future__ import annotations

import os
import sys
import typing as t
from datetime import timedelta
from functools import cached_property

from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import Aborter
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.utils import redirect as _wz_redirect

from .. import errors
from .. import routing
from ..config import Config
from ..config import ConfigAttribute
from ..config import DEFAULT_CONFIG
from ..config import make_timedelta
from ..ctx import _AppCtxGlobals
from ..helpers import get_debug_flag
from ..json.provider import DefaultJSONProvider
from ..json.provider import JSONProvider
from ..logging import create_logger
from ..matching import LazyBuilderRule
from ..matching import RuleMap
from ..scaffold import _endpoint_from_view_func
from ..scaffold import _late_setup
from ..scaffold import _registering_decorator
from ..scaffold import find_package
from ..scaffold import Scaffold
from ..scaffold import setupmethod

if t.TYPE_CHECKING:  # pragma: no cover
    import logging

    from jinja2 import BaseLoader
    from werkzeug.routing import BuildError
    from werkzeug.wrappers import Response as BaseResponse

    from .. import typing as ft
    from ..templating import Environment
    from ..testing import FlaskClient
    from ..testing import FlaskCliRunner
    from ..wrappers import Response
    from .blueprints import Blueprint

T = t.TypeVar("T", bound=t.Callable[..., t.Any])

# Flask 3's name for it here.
_make_timedelta = make_timedelta


class App(Scaffold):
    """An application's registries and configuration, without a protocol.

    Takes :class:`flask.Flask`'s arguments. Subclasses provide the request
    path, :meth:`create_jinja_environment` and the ``static`` route.
    """

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
    jinja_options: dict[str, t.Any] = {}
    #: Set by the subclass: the response class of its protocol.
    response_class: type[Response]

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
            import_name, static_folder, static_url_path, template_folder, root_path
        )
        self.instance_path = self._checked_instance_path(instance_path)
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.make_aborter()
        self.json: JSONProvider = self.json_provider_class(self)  # type: ignore[arg-type]
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
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
        # ``static_host`` is for the subclass, which adds the static route:
        # serving files is a protocol matter (Quart adds its own).
        self._got_first_request = False

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            happened = "handled its first request"
            raise _late_setup(f_name, "application", "application", happened, "running")

    # -- identity and configuration ------------------------------------------

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The app's name, which is its import name (the script's name
        when run as ``__main__``)."""
        if self.import_name == "__main__":
            filename: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if filename is None:
                return "__main__"
            return os.path.splitext(os.path.basename(filename))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The ``logging.Logger`` named after :attr:`name`."""
        return create_logger(self)  # type: ignore[arg-type]

    @property
    def debug(self) -> bool:
        """Debug mode, the ``DEBUG`` config key."""
        return self.config["DEBUG"]  # type: ignore[no-any-return]

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

    def _checked_instance_path(self, given: str | None) -> str:
        """The instance folder: found when not given, else an absolute path."""
        if given is None:
            return self.auto_find_instance_path()
        if os.path.isabs(given):
            return given
        raise ValueError(
            "If an instance path is provided it must be absolute."
            " A relative path was given instead."
        )

    def auto_find_instance_path(self) -> str:
        """``instance`` beside the package, or ``<prefix>/var/<name>-instance``
        for an installed one."""
        prefix, folder = find_package(self.import_name)
        if prefix is None:
            return os.path.join(folder, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    # -- templates ------------------------------------------------------------------

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create the Jinja environment; the subclass decides how."""
        raise NotImplementedError

    def create_global_jinja_loader(self) -> BaseLoader:
        """The loader that searches the app's and blueprints' templates."""
        # Imported here so that `import flask` does not load Jinja.
        from ..templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)  # type: ignore[arg-type]

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape string templates and HTML, XML and SVG files."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

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
            self, rule, endpoint, view_func, provide_automatic_options, options  # type: ignore[arg-type]
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

    # -- errors and URLs, decided from the registries alone -----------------------

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> t.Callable[..., t.Any] | None:
        return errors.find_error_handler(self, e, blueprints)  # type: ignore[arg-type]

    # flask.errors' and flask.routing's functions themselves, not wrappers.
    trap_http_exception = errors.trap_http_exception
    inject_url_defaults = routing.inject_url_defaults

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should not see ``error``."""
        return False

    def redirect(self, location: str, code: int = 302) -> BaseResponse:
        """A redirect response of :attr:`response_class`."""
        return _wz_redirect(location, code=code, Response=self.response_class)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Try :attr:`url_build_error_handlers`, else re-raise."""
        return routing.handle_url_build_error(self, error, endpoint, values)  # type: ignore[arg-type]
