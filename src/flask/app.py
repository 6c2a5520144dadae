"""The :class:`Flask` application object.

``Flask`` keeps Flask's public methods, so apps and extensions can call and
override them, but hands the work to small modules:

- :mod:`flask.pipeline`: the request path, from the WSGI call to the response;
- :mod:`flask.routing`: URL adapters and URL building;
- :mod:`flask.errors`: error handler lookup and error responses;
- :mod:`flask.responses`: view return values to response objects;
- :mod:`flask.sansio.app`: its protocol-free base, :class:`~flask.sansio.app.App`
  (configuration, registries, setup), itself built on :mod:`flask.scaffold`.
"""

from __future__ import annotations

import os
import typing as t
import weakref

from contextlib import closing

from werkzeug.routing import Rule as Rule  # noqa: F401  (imported from here by some code)

from . import background
from . import concurrency
from . import errors
from ._accel import enabled
from . import pipeline
from . import responses
from . import routing
from .ctx import AppContext
from .ctx import RequestContext
from .ctx import template_context_defaults
from .globals import _cv_request
from .globals import app_classes
from .globals import g
from .globals import request
from .helpers import _FileServing
from .matching import bind_request
from .sansio.app import App
from .session_state import DefaultSessionInterface
from .wrappers import Request
from .wrappers import Response


T = t.TypeVar("T", bound=t.Callable[..., t.Any])

if t.TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import MapAdapter

    from .sessions import SessionInterface
    from .templating import Environment
    from .testing import FlaskClient
    from .testing import FlaskCliRunner

class _AsgiEntry:
    """``Flask.asgi_app``: made on first read, then kept on the instance
    (where middleware may replace it); serving WSGI never imports asyncio."""
    def __get__(self, obj: Flask | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        from .asgi.entry import ASGIApp

        entry = obj.__dict__["asgi_app"] = ASGIApp(obj)
        return entry


# Methods whose override (on the class or the instance) turns off the
# request path's shortcuts.
_PIPELINE_METHODS = (
    "full_dispatch_request",
    "finalize_request",
    "make_response",
    "process_response",
)


_WRONG_CALL = (
    "A Flask app is called as app(environ, start_response) by a WSGI server"
    " or as app(scope, receive, send) by an ASGI 3 server; this server"
    " called it with one argument (ASGI 2). Serve app, or app.asgi_app, with"
    " the ASGI 3 interface (for example 'uvicorn module:app.asgi_app')."
)


def _asgi_signature(app: Flask) -> t.Callable[..., t.Awaitable[None]]:
    """What ``app.__call__`` reads as on the instance: an ``async def``.

    Servers that serve both protocols (hypercorn, uvicorn, asgiref's
    ``guarantee_single_callable``) pick ASGI when
    ``inspect.iscoroutinefunction(app.__call__)``. Calling the app still goes
    through the class's ``__call__`` (special methods are looked up on the
    type), so the WSGI call costs nothing more.
    """
    ref = weakref.ref(app)  # the app's own attribute must not keep it alive

    async def __call__(
        scope: t.MutableMapping[str, t.Any],
        receive: t.Callable[[], t.Awaitable[t.Any]],
        send: t.Callable[[t.Any], t.Awaitable[None]],
    ) -> None:
        live = ref()
        assert live is not None  # the server holds the app it calls
        await live.asgi_app(scope, receive, send)

    return __call__


class Flask(App, _FileServing):
    """The WSGI application: :class:`~flask.sansio.app.App`'s registries and
    configuration, with the request path, contexts, sessions and files.

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
    # Created on first use (flask.session_state.DefaultSessionInterface).
    session_interface: SessionInterface = DefaultSessionInterface()  # type: ignore[assignment]  # the descriptor gives a SessionInterface

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
            import_name, static_url_path, static_folder, static_host,
            host_matching, subdomain_matching, template_folder,
            instance_path, instance_relative_config, root_path,
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
                view_func=lambda **kw: app_ref().send_static_file(**kw),  # type: ignore[union-attr]
            )
        # ``g``, ``request`` and ``session`` come first, as the app's first
        # context processor: extensions count on finding theirs after it.
        self.template_context_processors[None].append(template_context_defaults)
        self.before_serving_funcs: list[t.Callable[..., t.Any]] = []
        self.after_serving_funcs: list[t.Callable[..., t.Any]] = []
        # A subclass that binds URLs its own way must always be asked.
        self._plain_adapter = (
            type(self).create_url_adapter is Flask.create_url_adapter
        )
        if type(self).__call__ is Flask.__call__:
            # A subclass with its own (WSGI) __call__ keeps being detected
            # as WSGI by servers that serve both.
            self.__dict__["__call__"] = _asgi_signature(self)

    # -- files --------------------------------------------------------------------

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.AnyStr]:
        """Open a file in the instance folder (which may be written to)."""
        # Binary modes take no encoding.
        text_encoding = None if "b" in mode else encoding
        return open(os.path.join(self.instance_path, resource), mode, encoding=text_encoding)

    # -- templates ------------------------------------------------------------------

    def create_jinja_environment(self) -> Environment:
        """Create the Jinja environment from :attr:`jinja_options`."""
        # Imported here so that `import flask` does not load Jinja.
        from .templating import create_environment

        return create_environment(self)

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add the context processors' values (the first one adds ``g``,
        ``request`` and ``session``); values passed to the render call win."""
        ctx = _cv_request.get(None)
        scopes = [None] if ctx is None else [None, *reversed(ctx.request.blueprints)]
        given = context.copy()
        processors = self.template_context_processors
        for scope in scopes:
            for func in processors.get(scope, ()):
                context.update(self.ensure_sync(func)())
        context.update(given)

    # -- shell -------------------------------------------------------------------

    def make_shell_context(self) -> dict[str, t.Any]:
        """The namespace of ``flask shell``."""
        context: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    # -- ASGI lifespan ---------------------------------------------------------------

    def before_serving(self, f: T) -> T:
        """Run ``f()`` (sync or async, in an app context) at ASGI lifespan
        startup; if it raises, the server does not start. Not under WSGI.

        .. beyond-flask:: ASGI lifespan hook, run when the server starts.
        """
        self.before_serving_funcs.append(f)
        return f

    def after_serving(self, f: T) -> T:
        """Run ``f()`` at ASGI lifespan shutdown.

        .. beyond-flask:: ASGI lifespan hook, run when the server shuts down.
        """
        self.after_serving_funcs.append(f)
        return f

    # -- work after the response -------------------------------------------------------

    def add_background_task(self, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> None:
        """Call ``func(*args, **kwargs)`` once the current request's response
        has been sent (at once outside a request), in a new app context
        whose ``g`` starts as a copy of the current one; ``request`` and
        ``session`` are not available there. Over ASGI a coroutine function
        runs on the event loop and a sync one in the thread pool; under
        WSGI in a small thread pool, after the server closes the body. An
        exception is logged through :attr:`logger`. Shutdown waits for
        pending tasks up to ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT`` seconds
        (default 5) and logs those still unfinished (docs/streaming.md, "Work after the response").

        .. beyond-flask:: Quart's ``add_background_task``: work after the response, under WSGI and ASGI.
        """
        background.add(self, func, args, kwargs)

    def wait_for_background_tasks(self, timeout: float | None = None) -> list[str]:
        """Wait up to ``timeout`` seconds (default
        ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT``) for the tasks running in
        background threads (under WSGI; what happens at interpreter exit);
        log and return the names of those still unfinished. Over ASGI the
        lifespan shutdown does the same for tasks on the loop.

        .. beyond-flask:: Waiting for background tasks, as shutdown does.
        """
        return background.wait_for_threads(self, timeout)

    # -- async ---------------------------------------------------------------------

    #: ``func`` itself, or a synchronous wrapper if it is a coroutine
    #: function (:func:`flask.concurrency.ensure_sync`, the function itself
    #: rather than a wrapper: it is asked once per user function called).
    ensure_sync = concurrency.ensure_sync

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to run it to completion: on the
        serving event loop in an ASGI pool thread, else with asgiref
        (:func:`flask.concurrency.async_to_sync`)."""
        return concurrency.async_to_sync(func)

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
            plain = self.__dict__["_plain_pipeline"] = enabled("plain-answer") and all(
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

    # -- responses and errors -----------------------------------------------------------

    make_response = responses.make_response

    # Error handling is flask.errors' functions, like url_for above.
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

    # -- the request path (see flask.pipeline) ------------------------------------------

    # The request-path methods are the functions of flask.pipeline (and
    # errors, responses) themselves rather than wrappers around them: a
    # hello-world request went through five wrapper frames. A subclass
    # overrides them like any method.
    wsgi_app = pipeline.wsgi_app

    def __setattr__(self, name: str, value: t.Any) -> None:
        if name in pipeline.STEP_METHOD_NAMES:
            # A request-path method assigned on the instance: which steps
            # are Flask's own is decided again at the next request.
            self.__dict__.pop(pipeline.OWN_STEPS_KEY, None)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name in pipeline.STEP_METHOD_NAMES:
            self.__dict__.pop(pipeline.OWN_STEPS_KEY, None)
        super().__delattr__(name)

    @t.overload
    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]: ...

    @t.overload
    def __call__(
        self,
        scope: t.MutableMapping[str, t.Any],
        receive: t.Callable[[], t.Awaitable[t.Any]],
        send: t.Callable[[t.Any], t.Awaitable[None]],
        /,
    ) -> t.Awaitable[None]: ...

    def __call__(
        self, environ: t.Any, start_response: t.Any = None, send: t.Any = None
    ) -> t.Any:
        """Serve one request: a WSGI server calls ``app(environ,
        start_response)``, an ASGI server awaits ``app(scope, receive,
        send)`` (the same as :attr:`asgi_app`)."""
        # Told apart by the number of arguments: the WSGI call pays one
        # ``is None`` test.
        if send is None:
            if start_response is None:
                raise TypeError(_WRONG_CALL)
            return self.wsgi_app(environ, start_response)
        return self.asgi_app(environ, start_response, send)

    async def __rsgi__(self, scope: t.Any, protocol: t.Any) -> None:
        """Granian's default interface, RSGI, is not served: say what is."""
        raise TypeError(
            "A Flask app speaks WSGI and ASGI, not RSGI: run"
            " 'granian --interface asgi module:app' (or serve app.asgi_app)."
        )

    #: The ASGI application (``uvicorn module:app.asgi_app``): awaited as
    #: ``asgi_app(scope, receive, send)``; see :mod:`flask.asgi`.
    #:
    #: .. beyond-flask:: The application's ASGI entry point.
    asgi_app: t.Callable[..., t.Awaitable[None]] = _AsgiEntry()  # type: ignore[assignment]

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

        with closing(EnvironBuilder(self, *args, **kwargs)) as builder:
            return self.request_context(builder.get_environ())

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> FlaskClient:
        """A test client for this app; see :class:`flask.testing.FlaskClient`
        (``asgi=True`` sends its requests through :attr:`asgi_app`)."""
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


# The CLI's discovery recognises apps by this list (see flask.globals).
app_classes.append(Flask)

# Flask's own pipeline methods, to recognise any override or patch.
_ORIGINAL_PIPELINE = {name: getattr(Flask, name) for name in _PIPELINE_METHODS}
